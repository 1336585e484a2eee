"""Upgrade benchmark: how long schema revision 0014 takes to fill the 10-minute rollups from
the 1-minute rollups a station already holds, on SQLite and PostgreSQL.

    uv run python bench/rollup_fill.py [--tags 100] [--days 30] [--backend all]

A database at revision 0013 gets `--tags` × `--days` of 1-minute rollups (one row per tag and
minute, written by SQL, not timed); then the upgrade to the newest revision is timed. Prints
rows per second, from which the upgrade of a bigger station can be estimated (the fill is one
pass over the 1-minute rows).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from databases import empty_postgres_database
from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade

BEFORE = "0013"
T0 = 1_699_999_200_000_000  # 2023-11-14 22:00 UTC, on the hour
MINUTE = 60_000_000


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


def fill_minutes(url: str, tags: int, minutes: int) -> None:
    """One 1-minute rollup per tag and minute, with values that differ between minutes."""
    engine = create_engine(url)
    upgrade(engine, BEFORE)
    if engine.dialect.name == "sqlite":
        series = (
            "WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m "
            f"WHERE i < {minutes - 1}), "
            f"t(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM t WHERE id < {tags}) "
        )
        source = "FROM t, m"
    else:
        series = ""
        source = (
            f"FROM generate_series(1, {tags}) t(id), generate_series(0::bigint, {minutes - 1}) m(i)"
        )
    at = f"({T0} + m.i * {MINUTE})"
    value = "mod(m.i + t.id, 7)"
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"{series}INSERT INTO rollups_1m SELECT t.id, {at}, 60, 60, 55, 60.0 * {value}, "
            f"{value}, {at} + 1000000, {value} + 1, {at} + 2000000, {value}, {at}, "
            f"{value} + 0.5, {at} + 59000000 {source}"
        )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--backend", choices=["all", "sqlite", "postgresql"], default="all")
    args = parser.parse_args()
    rows = args.tags * args.days * 1440
    databases = [("SQLite", sqlite_database), ("PostgreSQL", empty_postgres_database)]
    for name, database in databases:
        if args.backend not in ("all", name.lower()):
            continue
        with database() as url:
            fill_minutes(url, args.tags, args.days * 1440)
            engine = create_engine(url)
            started = time.perf_counter()
            upgrade(engine)
            elapsed = time.perf_counter() - started
            engine.dispose()
        print(
            f"{name:10s} {rows:,} 1-minute rows ({args.tags} tags × {args.days} days): "
            f"upgraded in {elapsed:.1f} s, {rows / elapsed:,.0f} rows/s"
        )


if __name__ == "__main__":
    main()
