"""API benchmark: latency and throughput of /api/v1/tags and of a 1000-point 30-day trend under
16 concurrent clients, on SQLite and PostgreSQL.

    uv run python bench/api.py [--clients 16] [--seconds 10] [--tags 200] [--backend all]

The server (the real app under uvicorn, one process) runs in a child process on 127.0.0.1 so
the load generator does not share its interpreter; the database holds the seeded simulator
catalog plus `--tags` extra tags (all with a live value) and 30 days of 1 s data for
wet_well.level. Prints p50/p99 latency, requests/s and the server process's CPU time per
request (user + system: what a request costs, whatever else the machine runs) per endpoint and
backend.

In the server's event loop a stand-in for the poller puts a new value of every tag into the
live view once a second, as a poll cycle does (so /tags changes as in service), and notes how
late each of its ticks came: what the API costs the poller's schedule. The trend is asked
twice: all clients the same range (as screens showing the same preset), then every request a
range of its own (shifted by whole seconds), which no two requests share.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from databases import backends
from query import START, load

USER, PASSWORD = "loadtest", "viewer-password-1"
DAYS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def station_config(tags: int) -> object:
    from pstg.config.models import StationConfig

    return StationConfig.model_validate(
        {
            "station": {"id": "bench"},
            "devices": [
                {
                    "id": "plc1",
                    "tags": [
                        {
                            "name": "wet_well.level",
                            "source": "input_register",
                            "address": 0,
                            "type": "float32",
                        }
                    ]
                    + [
                        {"name": f"tag{n}", "source": "holding_register", "address": n}
                        for n in range(tags)
                    ],
                }
            ],
        }
    )


def prepare(url: str, tags: int) -> None:
    from pstg.auth.roles import Role
    from pstg.auth.users import add_user
    from pstg.storage.catalog import sync_catalog
    from pstg.storage.database import create_engine

    engine = create_engine(url)
    catalog = sync_catalog(engine, station_config(tags))  # type: ignore[arg-type]
    assert catalog.tag_ids["wet_well.level"] == 1  # bench/query.py loads tag id 1
    load(engine, DAYS)
    add_user(engine, USER, PASSWORD, Role.VIEWER)
    engine.dispose()


def serve(url: str, port: int, tags: int, lateness: str) -> None:
    """The child process: the app over `url` under uvicorn, and the poll stand-in, which
    writes how late its ticks were (seconds, JSON) to `lateness` every second."""
    import json

    import uvicorn

    from pstg.api.app import create_app
    from pstg.api.context import ApiContext
    from pstg.auth.secret import load_or_create_secret
    from pstg.auth.service import AuthService
    from pstg.config.tag_table import TagTable
    from pstg.metrics import Metrics
    from pstg.model import Sample
    from pstg.sinks.live import LiveCache
    from pstg.storage.catalog import sync_catalog
    from pstg.storage.database import create_engine

    engine = create_engine(url)
    config = station_config(tags)
    catalog = sync_catalog(engine, config)  # type: ignore[arg-type]
    table = TagTable.from_config(config)  # type: ignore[arg-type]
    live = LiveCache(table)
    now = datetime.now(UTC)
    live.update(Sample(name, now, 1.0) for name in catalog.tag_ids)
    context = ApiContext(
        engine=engine,
        config=config,  # type: ignore[arg-type]
        station_id=catalog.station_id,
        tag_ids=catalog.tag_ids,
        auth=AuthService(engine, secret=load_or_create_secret(engine)),
        metrics=Metrics(dict, lambda: None),
        live=live,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(context), host="127.0.0.1", port=port, log_level="warning", http="httptools"
        )
    )

    async def poll_stand_in() -> None:
        from pstg.batch import Batch

        loop = asyncio.get_running_loop()
        record = Path(lateness)
        late: list[float] = []
        due = loop.time() + 1.0
        for cycle in itertools.count():
            await asyncio.sleep(max(0.0, due - loop.time()))
            late.append(loop.time() - due)
            due += 1.0
            stamp = datetime.now(UTC)
            batch = [Sample(name, stamp, float(cycle % 100)) for name in table.names]
            live.submit(Batch.from_samples(batch, table.index_of, set()))
            record.write_text(json.dumps(late))  # noqa: ASYNC240  # a few kB, once a second

    async def main() -> None:
        ticker = asyncio.create_task(poll_stand_in())
        await server.serve()
        ticker.cancel()

    asyncio.run(main())


async def hammer(
    base: str, path: str | Callable[[], str], token: str, clients: int, seconds: float
) -> list[float]:
    """Latencies of `clients` concurrent clients asking for `path` (or each time for what it
    gives) for `seconds`, each over a keep-alive connection of its own.

    aiohttp rather than httpx: the load generator must cost less than the server it loads.
    httpx took about 3 ms of CPU per request here, more than the server's /tags, so on two
    cores the clients' own queueing was most of the latency they reported."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    next_path = path if callable(path) else lambda: path
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=30)

    async with aiohttp.ClientSession(
        base, headers=headers, connector=connector, timeout=timeout
    ) as session:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.get(next_path()) as response:
                    body = await response.read()
                latencies.append(time.perf_counter() - started)
                assert response.status == 200, body[:200]

        await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


async def measure(
    base: str, clients: int, seconds: float, server: psutil.Process
) -> dict[str, tuple[list[float], float]]:
    """Per case its latencies and the server's CPU seconds spent on it."""
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(200):
            try:
                login = await client.post(
                    "/api/v1/auth/token", data={"username": USER, "password": PASSWORD}
                )
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.1)
        token = login.json()["access_token"]
    shifts = itertools.count()

    def trend(shift: int = 0) -> str:
        start = START + timedelta(seconds=shift)
        end = start + timedelta(days=DAYS)
        low, high = (moment.isoformat().replace("+00:00", "Z") for moment in (start, end))
        return f"/api/v1/trends?tag=wet_well.level&points=1000&from={low}&to={high}"

    cases: list[tuple[str, str | Callable[[], str]]] = [
        ("/api/v1/tags", "/api/v1/tags"),
        ("trend 30 d, 1000 points", trend()),
        ("  every range different", lambda: trend(next(shifts) % 86_400)),
    ]
    results = {}
    for label, path in cases:
        await hammer(base, path, token, clients, 1.0)  # warm up
        before = sum(server.cpu_times()[:2])
        latencies = await hammer(base, path, token, clients, seconds)
        results[label] = (latencies, sum(server.cpu_times()[:2]) - before)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--tags", type=int, default=200)
    parser.add_argument("--backend", choices=["all", "sqlite", "postgresql"], default="all")
    args = parser.parse_args()
    spawn = multiprocessing.get_context("spawn")
    print(f"{args.clients} clients, {args.seconds:g} s per endpoint, {args.tags + 1} tags")
    for name, database in backends(args.backend):
        with database() as url:
            prepare(url, args.tags)
            port = free_port()
            with tempfile.TemporaryDirectory() as folder:
                lateness = str(Path(folder) / "lateness.json")
                server = spawn.Process(
                    target=serve, args=(url, port, args.tags, lateness), daemon=True
                )
                server.start()
                try:
                    results = asyncio.run(
                        measure(
                            f"http://127.0.0.1:{port}", args.clients, args.seconds,
                            psutil.Process(server.pid),
                        )
                    )  # fmt: skip
                    late = json.loads(Path(lateness).read_text())
                finally:
                    server.terminate()
                    server.join(10)
        print(f"\n{name}")
        for label, (latencies, cpu) in results.items():
            ordered = sorted(latencies)
            print(
                f"  {label:26s} p50 {statistics.median(ordered) * 1000:7.1f} ms   "
                f"p99 {percentile(ordered, 0.99) * 1000:7.1f} ms   "
                f"{len(latencies) / args.seconds:7.1f} req/s   "
                f"server CPU {cpu / len(latencies) * 1000:5.2f} ms/request"
            )
        ticks = sorted(late[1:])  # the first tick came before any load
        print(
            f"  poll stand-in, 1 s ticks late by: p50 {statistics.median(ticks) * 1000:.1f} ms   "
            f"p99 {percentile(ticks, 0.99) * 1000:.1f} ms   max {ticks[-1] * 1000:.1f} ms "
            f"({len(ticks)} ticks)"
        )


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


if __name__ == "__main__":
    main()
