"""The web console's load on a gateway: live streams and page loads next to the poller.

    uv run python bench/console.py [--streams 50] [--seconds 30] [--page /]
                                   [--backend sqlite|postgresql|all]

`pstg simulate` and `pstg run` of the seeded station (every register of the simulator as a
tag, polled every second, with its alarms and the API) run as processes of their own on
127.0.0.1, as an operator starts them. Per backend, two windows of `--seconds`:

1. no viewers: the poll cycle time as the gateway measures it (`last_cycle_ms` of
   GET /api/v1/devices, read every half second, each new cycle counted once);
2. `--streams` clients on GET /api/v1/stream (one connection each, as browsers), and every
   `--page-interval` seconds a first load of `--page` (the console's page: its HTML and the
   scripts, styles and images it names on the same server, no cache; GET /api/v1/health when
   the page is 404, as before the console existed): the same poll cycle figures, the page
   load times, and for every value a stream delivers the delay from its poll time (`ts`) to
   its arrival at the client (same machine, same clock).

Prints the median and p99 cycle time of both windows and their ratio (issue 13: within 10 %),
the gateway's CPU in both, the page load median/p99 (target: under 1 s) and the delivery delay
p50/p99 (target: one poll cycle, 1 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from databases import backends
from seeded_station import percentile, seeded_station, wait_for_value

USER, PASSWORD = "watcher", "console-load-1"
ASSET = re.compile(r"""(?:src|href)\s*=\s*["'](/[^"'#?]*)""")
"""Same-server scripts, styles, images and icons named by a page."""


def figures(values: list[float]) -> str:
    if not values:
        return "no samples"
    return (f"median {statistics.median(values):8.1f} ms   p99 {percentile(values, 0.99):8.1f} ms"
            f"   ({len(values)})")  # fmt: skip


class CycleWatch:
    """Poll cycle times from GET /api/v1/devices, each cycle once."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.cycles: list[float] = []
        self._seen: dict[str, int] = {}

    async def run(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        await self.read(count=False)
        while time.monotonic() < end:
            await asyncio.sleep(0.5)
            await self.read(count=True)

    async def read(self, count: bool) -> None:
        for device in (await self.client.get("/api/v1/devices")).json():
            cycles, last = device["cycles"], device["last_cycle_ms"]
            if count and cycles != self._seen.get(device["device_id"]) and last is not None:
                self.cycles.append(last)
            self._seen[device["device_id"]] = cycles


async def watch_stream(base: str, headers: dict[str, str], delays: list[float],
                       opened: list[int]) -> None:  # fmt: skip
    """One viewer: reads the stream until cancelled, noting each good value's delivery delay."""
    async with (
        httpx.AsyncClient(base_url=base, headers=headers, timeout=None) as client,
        client.stream("GET", "/api/v1/stream") as response,
    ):
        if response.status_code != 200:
            raise SystemExit(f"stream refused: {response.status_code} {await response.aread()!r}")
        opened.append(1)
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "values":
                arrived = time.time()
                for value in json.loads(line[6:])["tags"].values():
                    if value["quality"] == "good":
                        ts = datetime.fromisoformat(value["ts"]).timestamp()
                        delays.append((arrived - ts) * 1000)


async def load_page(client: httpx.AsyncClient, page: str) -> float:
    """Seconds to fetch `page` and every same-server asset it names, assets in parallel."""
    began = time.perf_counter()
    answer = await client.get(page, follow_redirects=True)
    if answer.status_code >= 400:
        raise SystemExit(f"page {page}: {answer.status_code}")
    html = "html" in answer.headers.get("content-type", "")
    assets = sorted(set(ASSET.findall(answer.text))) if html else []
    fetched = await asyncio.gather(*(client.get(asset) for asset in assets))
    for asset, response in zip(assets, fetched, strict=True):
        if response.status_code >= 400:
            print(f"    asset {asset}: {response.status_code}")
    return time.perf_counter() - began


async def session_cookies(base: str) -> httpx.Cookies:
    """A browser session of the benchmark's user (the console's login), to load pages as a
    logged-in user would; empty when the gateway has no console sessions."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        answer = await client.post("/api/v1/auth/session",
                                   data={"username": USER, "password": PASSWORD})  # fmt: skip
        return client.cookies if answer.status_code == 200 else httpx.Cookies()


async def page_loads(base: str, page: str, every: float, stop: asyncio.Event,
                     times: list[float]) -> None:  # fmt: skip
    cookies = await session_cookies(base)
    while not stop.is_set():
        # A new client each time: a first load, nothing cached, a new connection; logged in.
        async with httpx.AsyncClient(base_url=base, timeout=30, cookies=cookies) as client:
            times.append(await load_page(client, page) * 1000)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def measure(base: str, token: str, gateway: psutil.Process, args: argparse.Namespace) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        page = args.page
        if (await client.get(page)).status_code == 404:
            print(f"  {page} is 404 (no console yet): page loads of /api/v1/health instead")
            page = "/api/v1/health"

        quiet = CycleWatch(client)
        gateway.cpu_percent()
        await quiet.run(args.seconds)
        quiet_cpu = gateway.cpu_percent()

        stop = asyncio.Event()
        delays: list[float] = []
        opened: list[int] = []
        loads: list[float] = []
        viewers = [asyncio.create_task(watch_stream(base, headers, delays, opened))
                   for _ in range(args.streams)]  # fmt: skip
        for _ in range(600):
            if len(opened) == args.streams:
                break
            await asyncio.sleep(0.1)
        pages = asyncio.create_task(page_loads(base, page, args.page_interval, stop, loads))
        delays.clear()
        busy = CycleWatch(client)
        gateway.cpu_percent()
        await busy.run(args.seconds)
        busy_cpu = gateway.cpu_percent()
        stop.set()
        await pages
        for viewer in viewers:
            viewer.cancel()
        ended = await asyncio.gather(*viewers, return_exceptions=True)
        failed = [e for e in ended if not isinstance(e, asyncio.CancelledError | None)]
        if failed:
            print(f"  {len(failed)} stream(s) failed: {failed[0]!r}")

    print(f"  poll cycle, no viewers:   {figures(quiet.cycles)}   gateway CPU {quiet_cpu:.0f} %")
    print(f"  poll cycle, {len(opened)} streams:  {figures(busy.cycles)}   "
          f"gateway CPU {busy_cpu:.0f} %")  # fmt: skip
    if quiet.cycles and busy.cycles:
        median = statistics.median(busy.cycles) / statistics.median(quiet.cycles)
        p99 = percentile(busy.cycles, 0.99) / percentile(quiet.cycles, 0.99)
        print(f"  ratio (streams / none):   median {median:.2f}   p99 {p99:.2f}")
    print(f"  page first load ({page}): {figures(loads)}")
    print(f"  poll time -> on a stream: {figures(delays)}")


def run(backend: str, database: str, args: argparse.Namespace) -> None:
    # Room for the benchmark's streams beyond the default api.max_streams.
    api = f"max_streams: {args.streams + 10}, "
    with seeded_station(database, USER, PASSWORD, "viewer", api) as station:
        headers = {"Authorization": f"Bearer {station.token}"}
        with httpx.Client(base_url=station.url, headers=headers) as client:
            wait_for_value(client, "wet_well.level")
        print(f"{backend}: {args.streams} streams, {args.seconds:g} s per window")
        asyncio.run(measure(station.url, station.token, psutil.Process(station.gateway.pid), args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="per window")
    parser.add_argument("--page", default="/", help="the console's page (default /)")
    parser.add_argument("--page-interval", type=float, default=1.0, help="seconds between loads")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "all"), default="all")
    args = parser.parse_args()
    for backend, database in backends(args.backend):
        with database() as url:
            run(backend, url, args)


if __name__ == "__main__":
    main()
