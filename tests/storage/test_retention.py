"""Retention on both backends: each level keeps its own span; PostgreSQL drops whole days."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pstg.storage.database import is_sqlite
from pstg.storage.retention import RetentionResult, apply_retention
from pstg.storage.rows import StoredRow, to_micros
from pstg.storage.schema import HOUR_US, MINUTE_US, TEN_MINUTES_US
from pstg.storage.store import SampleStore

T0 = datetime(2024, 3, 1, tzinfo=UTC)
DAY = 86400.0
NOW = T0 + timedelta(days=10, hours=6)  # the raw cutoff falls inside a day


def ten_days(engine: sa.Engine) -> None:
    """Tag 1 every 10 minutes and text tag 2 every hour, for 10 days from T0."""
    rows = [
        StoredRow(1, to_micros(T0) + i * 10 * MINUTE_US, float(i), None, 0, 0)
        for i in range(10 * 24 * 6)
    ]
    rows += [
        StoredRow(2, to_micros(T0) + i * HOUR_US, None, f"state {i}", 0, 0) for i in range(240)
    ]
    SampleStore(engine).write(rows)


def times(engine: sa.Engine, table: str) -> list[int]:
    column = "bucket" if table.startswith("rollups") else "ts"
    with engine.connect() as connection:
        return list(connection.exec_driver_sql(f"SELECT {column} FROM {table}").scalars())


def partitions(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.exec_driver_sql(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = 'samples'::regclass"
            ).scalar_one()
        )


def test_each_level_keeps_its_own_span(engine: sa.Engine) -> None:
    ten_days(engine)
    before = {t: len(times(engine, t)) for t in ("samples", "text_samples", "rollups_1h")}
    if not is_sqlite(engine):
        assert partitions(engine) == 10

    result = apply_retention(
        engine, raw=3 * DAY, minute=5 * DAY, ten_minute=7 * DAY, hour=0, now=NOW
    )

    raw_cutoff = to_micros(NOW - timedelta(days=3))
    kept = times(engine, "samples")
    assert min(kept) == raw_cutoff  # a sample falls exactly on the cutoff: kept
    assert len(kept) == (to_micros(T0 + timedelta(days=10)) - raw_cutoff) // (10 * MINUTE_US)
    assert min(times(engine, "text_samples")) == raw_cutoff
    minute_cutoff = to_micros(NOW - timedelta(days=5))
    assert min(times(engine, "rollups_1m")) == minute_cutoff  # whole buckets after it
    assert len(times(engine, "rollups_1h")) == before["rollups_1h"]  # 0: forever
    assert result.hour_deleted == 0
    assert result.minute_deleted == (minute_cutoff - to_micros(T0)) // (10 * MINUTE_US)
    ten_minute_cutoff = to_micros(NOW - timedelta(days=7))
    assert min(times(engine, "rollups_10m")) == ten_minute_cutoff
    assert result.ten_minute_deleted == (ten_minute_cutoff - to_micros(T0)) // TEN_MINUTES_US

    text_deleted = before["text_samples"] - len(times(engine, "text_samples"))
    if is_sqlite(engine):
        assert result.partitions_dropped == ()
        assert result.raw_deleted == before["samples"] - len(kept) + text_deleted
    else:
        # Days 1-7 (ending at or before the cutoff) are dropped whole; day 8 is trimmed.
        assert result.partitions_dropped == tuple(f"samples_2024030{d}" for d in range(1, 8))
        assert partitions(engine) == 3
        assert result.raw_deleted == 6 * 6 + text_deleted  # 6 hours of day 8, text by row

    again = apply_retention(
        engine, raw=3 * DAY, minute=5 * DAY, ten_minute=7 * DAY, hour=0, now=NOW
    )
    assert again == RetentionResult(0, 0, 0, 0, ())


def test_zero_keeps_everything_and_hours_go_by_whole_buckets(engine: sa.Engine) -> None:
    ten_days(engine)
    levels = ("samples", "rollups_1m", "rollups_10m", "rollups_1h")
    counts = {t: len(times(engine, t)) for t in levels}
    nothing = apply_retention(engine, raw=0, minute=0, ten_minute=0, hour=0, now=NOW)
    assert nothing == RetentionResult(0, 0, 0, 0, ())
    assert {t: len(times(engine, t)) for t in counts} == counts

    # 2.5 days of hours: the bucket that straddles the cutoff stays whole.
    result = apply_retention(
        engine, raw=0, minute=0, ten_minute=0, hour=2.5 * DAY, now=NOW + timedelta(minutes=30)
    )
    cutoff = to_micros(NOW - timedelta(days=2.5) + timedelta(minutes=30))
    assert min(times(engine, "rollups_1h")) == cutoff - cutoff % HOUR_US
    assert result.hour_deleted == counts["rollups_1h"] - len(times(engine, "rollups_1h"))
    assert len(times(engine, "samples")) == counts["samples"]


def test_retention_spans_must_not_be_negative(engine: sa.Engine) -> None:
    with pytest.raises(ValueError, match="raw retention must be 0 \\(forever\\) or positive"):
        apply_retention(engine, raw=-1, minute=0, ten_minute=0, hour=0)
