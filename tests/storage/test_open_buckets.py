"""The writer's rollups on both backends: open buckets kept in memory and written once, exact
under replays, duplicates, any order and a crash; queries never miss the open bucket."""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pstg.batch import Batch
from pstg.storage.columns import SampleColumns
from pstg.storage.open_buckets import OpenBuckets
from pstg.storage.queries import summary, trend
from pstg.storage.rows import StoredRow, to_micros
from pstg.storage.schema import HOUR_US, MINUTE_US, ROLLUPS
from pstg.storage.spool import Spool
from pstg.storage.store import SampleStore
from pstg.storage.writer import SampleWriter
from tests.storage.test_rollups import T0, assert_rollups_match_samples, rows

IDS = np.array([1, 2, 3], dtype=np.int64)


def clear(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        for table in ("samples", *(table.name for table, _ in ROLLUPS), "open_rollups"):
            connection.exec_driver_sql(f"DELETE FROM {table}")


def write(store: SampleStore, buckets: OpenBuckets, part: list[StoredRow]) -> None:
    buckets.register(store.engine)
    store.insert(SampleColumns.of_rows(part), then=buckets.after_insert)
    buckets.committed()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_open_buckets_equal_aggregates_of_the_stored_samples(engine: sa.Engine, data) -> None:
    clear(engine)
    batch = data.draw(st.lists(rows, max_size=120))
    order = data.draw(st.permutations(batch))  # late rows, out of order
    cuts = sorted(data.draw(st.lists(st.integers(0, len(order)), max_size=6)))
    parts = [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]
    crash_at = data.draw(st.integers(0, len(parts)))
    # The wall clock somewhere in (or after) the three hours: later buckets are merged at once.
    now = data.draw(st.sampled_from([T0 + 90 * MINUTE_US, T0 + 10 * HOUR_US]))
    store = SampleStore(engine)
    buckets = OpenBuckets(1, IDS, now_us=lambda: now)
    for n, part in enumerate(parts):
        if n == crash_at:  # the process dies: the open buckets are lost, the raw rows stay
            buckets = OpenBuckets(1, IDS, now_us=lambda: now)
        write(store, buckets, part)
        if data.draw(st.booleans()):
            write(store, buckets, part)  # a replay: nothing is counted twice
    with engine.begin() as connection:
        buckets.close(connection)
    buckets.closed()
    assert_rollups_match_samples(engine)


# Ten past the last hour: the minutes the tests write stay in one hour whenever they run
# (five minutes before now put them on both sides of an hour in the first minutes of it).
NOW = datetime.now(UTC).replace(minute=10, second=0, microsecond=0) - timedelta(hours=1)


def minute_of_samples(start: datetime, count: int, tag: int = 0) -> Batch:
    """`count` samples of tag index `tag`, one a second from `start`."""
    return Batch(
        np.full(count, tag, dtype=np.int32),
        np.array([to_micros(start) + i * 1_000_000 for i in range(count)], dtype=np.int64),
        np.arange(count, dtype=np.float64),
        np.zeros(count, dtype=np.uint8),
        np.zeros(count, dtype=np.uint8),
    )


def writer_for(engine: sa.Engine, tmp_path: Path) -> SampleWriter:
    return SampleWriter(
        engine,
        station_id=1,
        tag_ids=IDS,
        spool=Spool(tmp_path / "spool.db", max_bytes=10_000_000),
        flush_interval=0.05,
    )


def rollup_count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as connection:
        total = connection.exec_driver_sql(f'SELECT sum("count") FROM {table}').scalar()
        return int(total or 0)


async def test_queries_include_the_bucket_still_open(engine: sa.Engine, tmp_path: Path) -> None:
    writer = writer_for(engine, tmp_path)
    async with writer:
        writer.submit(minute_of_samples(NOW, 60))  # a whole minute
        writer.submit(minute_of_samples(NOW + timedelta(minutes=1), 30))  # half of the next
        await writer.flush()
        # The first minute closed (written once), the second is open: only in memory.
        assert rollup_count(engine, "rollups_1m") == 60
        assert rollup_count(engine, "rollups_10m") == rollup_count(engine, "rollups_1h") == 0
        start = NOW - timedelta(minutes=NOW.minute)  # the hour
        chart = trend(engine, 1, start, start + timedelta(hours=2), points=2)
        assert chart.source == "rollups_1h"
        assert sum(bucket.count for bucket in chart.buckets) == 90
        tens = trend(engine, 1, start, start + timedelta(hours=1), points=6)
        assert tens.source == "rollups_10m"
        assert sum(bucket.count for bucket in tens.buckets) == 90
        minutes = trend(engine, 1, NOW, NOW + timedelta(minutes=10), points=10)
        assert minutes.source == "rollups_1m"
        assert [b.count for b in minutes.buckets[:3]] == [60, 30, 0]
        assert minutes.buckets[1].last == 29.0
        whole = summary(engine, 1, NOW - timedelta(hours=3), NOW + timedelta(hours=3))
        assert (whole.count, whole.max) == (90, 59.0)
    assert {rollup_count(engine, table.name) for table, _ in ROLLUPS} == {90}


async def test_a_crash_loses_no_rollups(engine: sa.Engine, tmp_path: Path) -> None:
    first = writer_for(engine, tmp_path)
    await first.start()
    first.submit(minute_of_samples(NOW, 40))
    await first.flush()
    # The process is killed: no close(), the open minute and hour were only in memory.
    task = first._task
    assert task is not None
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    first.spool.close()
    assert rollup_count(engine, "rollups_1m") == 0
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM open_rollups").scalar() == 1

    second = writer_for(engine, tmp_path)
    async with second:
        second.submit(minute_of_samples(NOW + timedelta(seconds=40), 20))  # same minute, later
    assert second.stats.rollups_recomputed == 3  # the newest minute, 10 minutes, hour of tag 1
    assert {rollup_count(engine, table.name) for table, _ in ROLLUPS} == {60}
    assert_rollups_match_samples(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM open_rollups").scalar() == 0
