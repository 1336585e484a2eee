"""Query benchmark: 1000-point trends of one tag with 30 days of 1-second data (2.6 M samples),
on SQLite and PostgreSQL, next to a naive GROUP BY over the raw samples.

    uv run python bench/query.py [--days 30] [--points 1000] [--repeat 15] [--backend all]

Loading writes the data through SampleStore (so the rollups are those the writer keeps). Then,
per backend, the median latency of:
- trend over the whole range (1000 points over 30 days: 43-minute buckets, 1-minute rollups),
- trend over one day (86-second buckets: 1-minute rollups),
- trend over one hour (3.6-second buckets: raw samples),
- the naive GROUP BY of min/max/avg/count over raw samples for the whole range.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from databases import backends
from pstg.storage.database import create_engine
from pstg.storage.queries import trend
from pstg.storage.rows import StoredRow, to_micros
from pstg.storage.store import SampleStore

START = datetime(2026, 4, 1, tzinfo=UTC)
TAG = 1
CHUNK = 50_000

NAIVE = sa.text(
    "SELECT (ts - :low) * :points / :span AS idx, MIN(value), MAX(value), AVG(value), COUNT(*) "
    "FROM samples WHERE tag_id = :tag AND ts >= :low AND ts < :high GROUP BY idx"
)


def load(engine: sa.Engine, days: int) -> int:
    store = SampleStore(engine)
    base = to_micros(START)
    total = days * 86_400
    if not store.sqlite:
        store.ensure_partitions(base + day * 86_400_000_000 for day in range(days + 1))
    for first in range(0, total, CHUNK):
        rows = [
            StoredRow(TAG, base + s * 1_000_000, 2.0 + math.sin(s / 3600.0), None, 0, 0)
            for s in range(first, min(first + CHUNK, total))
        ]
        store.write(rows, unique=True)
    return total


def median_ms(function: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--backend", choices=["all", "sqlite", "postgresql"], default="all")
    args = parser.parse_args()
    end = START + timedelta(days=args.days)
    for name, database in backends(args.backend):
        with database() as url:
            engine = create_engine(url)
            started = time.perf_counter()
            count = load(engine, args.days)
            loading = time.perf_counter() - started
            print(
                f"\n{name}: {count:,} samples loaded in {loading:.1f} s ({count / loading:,.0f}/s)"
            )
            cases = [
                (f"trend {args.days} days", START, end),
                ("trend 1 day", START + timedelta(days=3), START + timedelta(days=4)),
                ("trend 1 hour", START + timedelta(days=3), START + timedelta(days=3, hours=1)),
            ]
            with engine.connect() as connection:
                for label, low, high in cases:
                    result = trend(connection, TAG, low, high, args.points)

                    def run(low: datetime = low, high: datetime = high) -> None:
                        trend(connection, TAG, low, high, args.points)

                    ms = median_ms(run, args.repeat)
                    source = f"{result.source}, {len(result.buckets)} buckets"
                    print(f"  {label:22s} {ms:8.1f} ms  ({source})")
                first, last = to_micros(START), to_micros(end)
                span = last - first
                params = {
                    "tag": TAG,
                    "low": first,
                    "high": last,
                    "points": args.points,
                    "span": span,
                }

                def naive(params: dict[str, int] = params) -> None:
                    connection.execute(NAIVE, params).all()

                naive_ms = median_ms(naive, max(3, args.repeat // 5))
                print(f"  {'naive GROUP BY, raw':22s} {naive_ms:8.1f} ms  (whole range)")
            engine.dispose()


if __name__ == "__main__":
    main()
