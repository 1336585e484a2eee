"""API benchmark: latency and throughput of /api/v1/tags and of a 1000-point 30-day trend under
16 concurrent clients, on SQLite and PostgreSQL.

    uv run python bench/api.py [--clients 16] [--seconds 10] [--tags 200] [--backend all]

The server (the real app under uvicorn, one process) runs in a child process on 127.0.0.1 so
the load generator does not share its interpreter; the database holds the seeded simulator
catalog plus `--tags` extra tags (all with a live value) and 30 days of 1 s data for
wet_well.level. Prints p50/p99 latency and requests/s per endpoint and backend.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

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


def serve(url: str, port: int, tags: int) -> None:
    """The child process: the app over `url` under uvicorn."""
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
    live = LiveCache(TagTable.from_config(config))  # type: ignore[arg-type]
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
    uvicorn.run(create_app(context), host="127.0.0.1", port=port, log_level="warning")


async def hammer(base: str, path: str, token: str, clients: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients)

    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=30
    ) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.get(path)
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text

        await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


async def measure(base: str, clients: int, seconds: float) -> dict[str, list[float]]:
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
    end = START + timedelta(days=DAYS)
    start_text, end_text = (moment.isoformat().replace("+00:00", "Z") for moment in (START, end))
    trend = f"/api/v1/trends?tag=wet_well.level&points=1000&from={start_text}&to={end_text}"
    results = {}
    for label, path in (("/api/v1/tags", "/api/v1/tags"), ("trend 30 d, 1000 points", trend)):
        await hammer(base, path, token, clients, 1.0)  # warm up
        results[label] = await hammer(base, path, token, clients, seconds)
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
            server = spawn.Process(target=serve, args=(url, port, args.tags), daemon=True)
            server.start()
            try:
                results = asyncio.run(
                    measure(f"http://127.0.0.1:{port}", args.clients, args.seconds)
                )
            finally:
                server.terminate()
                server.join(10)
        print(f"\n{name}")
        for label, latencies in results.items():
            ordered = sorted(latencies)
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            print(
                f"  {label:26s} p50 {statistics.median(ordered) * 1000:7.1f} ms   "
                f"p99 {p99 * 1000:7.1f} ms   {len(latencies) / args.seconds:7.1f} req/s"
            )


if __name__ == "__main__":
    main()
