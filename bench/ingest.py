"""Ingest benchmark: samples/s through the project's writer, next to the raw driver's best bulk
path, on SQLite and PostgreSQL, in the same run.

    uv run python bench/ingest.py [--samples 500000] [--tags 200] [--rounds 3] [--backend all]

For each backend and round, on a fresh migrated database:
- raw: the driver's bulk path into the same samples table, rows prepared in advance
  (sqlite3 executemany, 5000 rows per transaction; psycopg binary COPY, 5000 rows each);
- store: SampleStore.write of the same rows (idempotent insert + 1 min and 1 h rollups);
- writer: the whole path from the poller's side — Sample objects submitted in poll-cycle
  batches (one sample per tag), report by exception, conversion, batching, the worker thread,
  store and rollups — timed from the first submit until close() returns (everything durable).
Every value changes each cycle, so report by exception stores all of them: the worst case.
Prints the median of the rounds and the ratio to the raw path.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from databases import backends
from pstg.config.models import StationConfig
from pstg.model import Sample
from pstg.storage.catalog import sync_catalog
from pstg.storage.database import create_engine, parse_database_url
from pstg.storage.exception import ReportByException
from pstg.storage.rows import StoredRow, to_row
from pstg.storage.spool import Spool
from pstg.storage.store import SampleStore
from pstg.storage.writer import SampleWriter

BATCH = 5000
START = datetime(2026, 5, 1, tzinfo=UTC)


def station(tags: int) -> StationConfig:
    return StationConfig.model_validate(
        {
            "station": {"id": "bench"},
            "devices": [
                {
                    "id": "plc1",
                    "tags": [
                        {"name": f"t{n}", "source": "holding_register", "address": n}
                        for n in range(tags)
                    ],
                }
            ],
        }
    )


def cycles(tags: int, samples: int) -> list[list[Sample]]:
    count = samples // tags
    return [
        [Sample(f"t{n}", START + timedelta(seconds=c), float(c * 1000 + n)) for n in range(tags)]
        for c in range(count)
    ]


def raw_sqlite(url: str, rows: list[StoredRow]) -> float:
    import sqlite3

    path = parse_database_url(url).database
    assert path is not None
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    values = [(r.tag_id, r.ts, r.value, r.quality, r.reason) for r in rows]
    started = time.perf_counter()
    for i in range(0, len(values), BATCH):
        with connection:
            connection.executemany(
                "INSERT INTO samples (tag_id, ts, value, quality, reason) VALUES (?, ?, ?, ?, ?)",
                values[i : i + BATCH],
            )
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def raw_postgres(url: str, rows: list[StoredRow]) -> float:
    engine = create_engine(url)
    SampleStore(engine).ensure_partitions(r.ts for r in rows)  # DDL is not part of the timing
    engine.dispose()
    conninfo = (
        parse_database_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    values = [(r.tag_id, r.ts, r.value, r.quality, r.reason) for r in rows]
    with psycopg.connect(conninfo) as connection:
        started = time.perf_counter()
        for i in range(0, len(values), BATCH):
            with (
                connection.cursor() as cursor,
                cursor.copy(
                    "COPY samples (tag_id, ts, value, quality, reason) FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                copy.set_types(["int8", "int8", "float8", "int2", "int2"])
                for value in values[i : i + BATCH]:
                    copy.write_row(value)
            connection.commit()
        return time.perf_counter() - started


def store_path(url: str, rows: list[StoredRow]) -> float:
    engine = create_engine(url)
    store = SampleStore(engine)
    store.ensure_partitions(r.ts for r in rows) if not store.sqlite else None
    started = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        store.write(rows[i : i + BATCH])
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


async def writer_path(url: str, batches: list[list[Sample]], tag_ids: dict[str, int]) -> float:
    engine = create_engine(url)
    store = SampleStore(engine)
    if not store.sqlite:
        store.ensure_partitions(
            to_row(batch[0], 0).ts for batch in batches
        )  # created ahead by the service in real life
    with tempfile.TemporaryDirectory() as folder:
        writer = SampleWriter(
            engine,
            station_id=1,
            tag_ids=tag_ids,
            report=ReportByException(heartbeat=300.0, deadbands={}),
            spool=Spool(Path(folder) / "spool.db", max_bytes=1 << 30),
            flush_interval=1.0,
            batch_size=BATCH,
        )
        await writer.start()
        started = time.perf_counter()
        for number, batch in enumerate(batches):
            writer.submit(batch)
            if number % 25 == 0:
                await asyncio.sleep(0)  # the poller yields between cycles
        await writer.close()
        elapsed = time.perf_counter() - started
    assert writer.stats.stored == sum(len(b) for b in batches), writer.stats
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=500_000)
    parser.add_argument("--tags", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=["all", "sqlite", "postgresql"], default="all")
    args = parser.parse_args()
    batches = cycles(args.tags, args.samples)
    total = sum(len(batch) for batch in batches)
    print(f"{total} samples: {len(batches)} cycles of {args.tags} tags; {args.rounds} rounds")
    for name, database in backends(args.backend):
        times: dict[str, list[float]] = {"raw": [], "store": [], "writer": []}
        for _ in range(args.rounds):
            for path in times:
                with database() as url:
                    engine = create_engine(url)
                    tag_ids = sync_catalog(engine, station(args.tags)).tag_ids
                    engine.dispose()
                    rows = [to_row(s, tag_ids[s.tag]) for batch in batches for s in batch]
                    if path == "raw":
                        raw = raw_sqlite if name == "SQLite" else raw_postgres
                        times[path].append(raw(url, rows))
                    elif path == "store":
                        times[path].append(store_path(url, rows))
                    else:
                        times[path].append(asyncio.run(writer_path(url, batches, tag_ids)))
        raw_rate = total / statistics.median(times["raw"])
        print(f"\n{name}")
        for path, label in (
            ("raw", "raw bulk path (no rollups)"),
            ("store", "SampleStore.write (+ rollups)"),
            ("writer", "SampleWriter, from submit to durable"),
        ):
            rate = total / statistics.median(times[path])
            print(f"  {label:40s} {rate:>10,.0f} samples/s   {rate / raw_rate:5.2f}x raw")


if __name__ == "__main__":
    main()
