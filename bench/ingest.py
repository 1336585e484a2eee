"""Ingest benchmark: samples/s through the project's writer, next to the raw driver's best bulk
path, on SQLite and PostgreSQL, with few and with many tags, in the same run.

    uv run python bench/ingest.py [--samples 500000] [--tags 200,20000] [--rounds 3]
                                  [--backend all] [--catalog 100000]

For each backend, tag count and round, on a fresh migrated database:
- raw: the driver's bulk path into the same samples table, rows prepared in advance as
  tuples (sqlite3 executemany, WAL, WITHOUT ROWID; psycopg binary COPY), 5000 rows per
  transaction, no rollups;
- store: SampleStore.write_columns of the same rows as NumPy columns, 5000 per transaction
  (idempotent insert + 1 min and 1 h rollups merged per transaction: the import path);
- writer: the whole path from the pipeline's side — one `Batch` per read block of 100 tags
  and poll cycle (one sample per tag per second), tag index -> id, batching, the worker
  thread, the insert and the open rollup buckets — timed from the first submit until
  close() returns (everything durable, open buckets written).
With 20,000 tags a flush of 5000 rows holds one sample each of 5000 tags: the case where
merging rollups per flush cost one upsert per sample and level. Prints the median of the
rounds and the ratio to the raw path; `--catalog N` also times a catalog sync of N tags
(first sync, then an unchanged re-sync).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from databases import backends
from pstg.batch import Batch
from pstg.config.models import StationConfig
from pstg.storage.catalog import sync_catalog
from pstg.storage.columns import SampleColumns
from pstg.storage.database import create_engine, parse_database_url
from pstg.storage.spool import Spool
from pstg.storage.store import SampleStore
from pstg.storage.writer import SampleWriter

BATCH = 5000
BLOCK = 100
START = 1_777_593_600_000_000  # 2026-05-01T00:00:00Z, µs
SECOND = 1_000_000


def station(tags: int) -> StationConfig:
    devices = [
        {
            "id": f"plc{d}",
            "tags": [
                {"name": f"d{d}.t{n}", "source": "holding_register", "address": n}
                for n in range(min(BLOCK, tags - d * BLOCK))
            ],
        }
        for d in range(-(-tags // BLOCK))
    ]
    return StationConfig.model_validate({"station": {"id": "bench"}, "devices": devices})


def blocks(tags: int, samples: int) -> list[Batch]:
    """One batch per read block (100 tags) and poll cycle; every value changes."""
    out = []
    for cycle in range(samples // tags):
        for first in range(0, tags, BLOCK):
            index = np.arange(first, min(first + BLOCK, tags), dtype=np.int32)
            n = len(index)
            out.append(
                Batch(
                    index,
                    np.full(n, START + cycle * SECOND, dtype=np.int64),
                    (cycle * 1000.0 + index).astype(np.float64),
                    np.zeros(n, dtype=np.uint8),
                    np.zeros(n, dtype=np.uint8),
                )
            )
    return out


def columns_of(batches: list[Batch], ids: np.ndarray) -> SampleColumns:
    return SampleColumns.of_batch(Batch.concat(batches), ids)


def raw_sqlite(url: str, columns: SampleColumns) -> float:
    import sqlite3

    path = parse_database_url(url).database
    assert path is not None
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    values = [row[:3] + row[4:] for row in columns.rows()]  # all but `text`
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


def raw_postgres(url: str, columns: SampleColumns) -> float:
    engine = create_engine(url)
    SampleStore(engine).ensure_partitions(columns.ts.tolist())  # DDL is not part of the timing
    engine.dispose()
    conninfo = (
        parse_database_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    values = [row[:3] + row[4:] for row in columns.rows()]
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


def store_path(url: str, columns: SampleColumns) -> float:
    engine = create_engine(url)
    store = SampleStore(engine)
    if not store.sqlite:
        store.ensure_partitions(columns.ts.tolist())
    order = np.arange(columns.numbers)
    started = time.perf_counter()
    for i in range(0, columns.numbers, BATCH):
        store.write_columns(columns.select(order[i : i + BATCH]))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


async def writer_path(url: str, batches: list[Batch], ids: np.ndarray, station_id: int) -> float:
    engine = create_engine(url)
    store = SampleStore(engine)
    if not store.sqlite:  # created ahead by the service in real life
        store.ensure_partitions(np.concatenate([b.ts for b in batches]).tolist())
    rows = sum(len(b) for b in batches)
    with tempfile.TemporaryDirectory() as folder:
        writer = SampleWriter(
            engine,
            station_id=station_id,
            tag_ids=ids,
            spool=Spool(Path(folder) / "spool.db", max_bytes=1 << 30),
            flush_interval=1.0,
            batch_size=BATCH,
        )
        await writer.start()
        started = time.perf_counter()
        for number, batch in enumerate(batches):
            writer.submit(batch)
            if number % (BATCH // BLOCK) == 0:
                await asyncio.sleep(0)  # the sources yield between reads
        await writer.close()
        elapsed = time.perf_counter() - started
    stats = writer.stats
    assert stats.stored == rows, stats
    assert not stats.overflowed, stats
    assert not stats.spooled, stats
    engine.dispose()
    return elapsed


def catalog_timing(database: Callable[[], AbstractContextManager[str]], tags: int) -> None:
    config = station(tags)
    with database() as url:
        engine = create_engine(url)
        started = time.perf_counter()
        sync_catalog(engine, config)
        first = time.perf_counter() - started
        started = time.perf_counter()
        sync_catalog(engine, config)
        again = time.perf_counter() - started
        engine.dispose()
    print(f"  catalog sync of {tags:,} tags: {first:.2f} s first, {again:.2f} s unchanged")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--samples", type=int, default=500_000)
    parser.add_argument("--tags", default="200,20000", help="comma-separated tag counts")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=["all", "sqlite", "postgresql"], default="all")
    parser.add_argument("--catalog", type=int, default=0, help="also time a sync of N tags")
    args = parser.parse_args()
    print(f"{args.samples:,} samples per path and round; {args.rounds} rounds; medians")
    for name, database in backends(args.backend):
        print(f"\n{name}")
        for tags in (int(t) for t in args.tags.split(",")):
            batches = blocks(tags, args.samples)
            total = sum(len(b) for b in batches)
            times: dict[str, list[float]] = {"raw": [], "store": [], "writer": []}
            for _ in range(args.rounds):
                for path in times:
                    with database() as url:
                        engine = create_engine(url)
                        catalog = sync_catalog(engine, station(tags))
                        engine.dispose()
                        columns = columns_of(batches, catalog.ids)
                        if path == "raw":
                            raw = raw_sqlite if name == "SQLite" else raw_postgres
                            times[path].append(raw(url, columns))
                        elif path == "store":
                            times[path].append(store_path(url, columns))
                        else:
                            run = writer_path(url, batches, catalog.ids, catalog.station_id)
                            times[path].append(asyncio.run(run))
            raw_rate = total / statistics.median(times["raw"])
            print(f"  {tags:,} tags ({total // tags} cycles)")
            for path, label in (
                ("raw", "raw bulk path (no rollups)"),
                ("store", "SampleStore.write_columns (+ rollups)"),
                ("writer", "SampleWriter, submit to durable"),
            ):
                rate = total / statistics.median(times[path])
                print(f"    {label:40s} {rate:>10,.0f} samples/s   {rate / raw_rate:5.2f}x raw")
        if args.catalog:
            catalog_timing(database, args.catalog)


if __name__ == "__main__":
    main()
