"""Retention: forget raw samples, 1-minute, 10-minute and 1-hour rollups older than each
level's limit.

Each level keeps its own span (raw samples for weeks, rollups for years), so old charts stay
drawable from rollups after the raw samples are gone. On PostgreSQL `samples` is partitioned
by day: whole days older than the cutoff are dropped as partitions, which frees the space at
once and costs no row-by-row delete; only the day that straddles the cutoff is deleted from.
Everything else (text samples, rollups, all of SQLite) is deleted row by row, per tag along
the primary key, so a run touches only the rows it removes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.model import utc_now
from pstg.storage.database import is_sqlite
from pstg.storage.rows import MICROSECONDS, to_micros
from pstg.storage.schema import ROLLUPS

log = logging.getLogger("pstg.storage")

_BOUND = re.compile(r"FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)")


@dataclass(frozen=True, slots=True)
class RetentionResult:
    raw_deleted: int
    """Rows deleted from samples and text_samples (rows in dropped partitions not counted)."""
    minute_deleted: int
    ten_minute_deleted: int
    hour_deleted: int
    partitions_dropped: tuple[str, ...]
    """PostgreSQL: the daily partitions of samples dropped whole."""


def apply_retention(
    engine: Engine,
    *,
    raw: float,
    minute: float,
    ten_minute: float,
    hour: float,
    now: datetime | None = None,
) -> RetentionResult:
    """Delete what is older than `raw`, `minute`, `ten_minute` and `hour` seconds (0: keep
    forever) before `now` from the raw samples and the three rollup levels. A rollup bucket
    goes once all of it is older than the cutoff."""
    limits = (("raw", raw), ("minute", minute), ("ten_minute", ten_minute), ("hour", hour))
    for name, seconds in limits:
        if seconds < 0:
            raise ValueError(f"{name} retention must be 0 (forever) or positive, got {seconds}")
    at = to_micros(now if now is not None else utc_now())
    raw_deleted = 0
    dropped: tuple[str, ...] = ()
    if raw:
        cutoff = at - round(raw * MICROSECONDS)
        if not is_sqlite(engine):
            dropped = _drop_partitions(engine, cutoff)
        with engine.begin() as connection:
            raw_deleted = _delete(connection, "samples", "ts", cutoff)
            raw_deleted += _delete(connection, "text_samples", "ts", cutoff)
    rollups_deleted: dict[str, int] = {}
    keeps = {"rollups_1m": minute, "rollups_10m": ten_minute, "rollups_1h": hour}
    for rollups, width in ROLLUPS:
        table, keep = rollups.name, keeps[rollups.name]
        rollups_deleted[table] = 0
        if keep:
            # A bucket [bucket, bucket + width) goes once its end is at or before the cutoff.
            before = at - round(keep * MICROSECONDS) - width + 1
            with engine.begin() as connection:
                rollups_deleted[table] = _delete(connection, table, "bucket", before)
    result = RetentionResult(
        raw_deleted,
        rollups_deleted["rollups_1m"],
        rollups_deleted["rollups_10m"],
        rollups_deleted["rollups_1h"],
        dropped,
    )
    if raw_deleted or any(rollups_deleted.values()) or dropped:
        log.info("retention: %s", result)
    return result


def _delete(connection: Connection, table: str, time: str, before: int) -> int:
    """Delete the rows of `table` with `time` < `before`; returns how many went.

    The tables are keyed (tag_id, time): the tags are found by skipping through the key (one
    index probe per tag), and each tag's old rows are a range at the start of its part of the
    key. One statement per tag keeps both planners on that range, never on a full scan."""
    tag_ids = connection.execute(
        sa.text(
            "WITH RECURSIVE t(id) AS ("
            f"SELECT min(tag_id) FROM {table} UNION ALL "
            f"SELECT (SELECT min(tag_id) FROM {table} WHERE tag_id > t.id) FROM t "
            "WHERE t.id IS NOT NULL) SELECT id FROM t WHERE id IS NOT NULL"
        )
    ).scalars()
    statement = sa.text(f"DELETE FROM {table} WHERE tag_id = :tag AND {time} < :before")
    return sum(
        connection.execute(statement, {"tag": tag_id, "before": before}).rowcount
        for tag_id in tag_ids.all()
    )


def _drop_partitions(engine: Engine, cutoff: int) -> tuple[str, ...]:
    """Drop the partitions of samples whose upper bound is at or before `cutoff`."""
    with engine.connect() as connection:
        partitions = connection.exec_driver_sql(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'samples'::regclass"
        ).all()
    dropped = []
    for name, bound in sorted(partitions):
        match = _BOUND.search(bound or "")
        if match is None or int(match.group(2)) > cutoff:
            continue  # the default partition, or one with rows to keep
        with engine.begin() as connection:
            # Each in its own short transaction: dropping locks the parent table.
            connection.exec_driver_sql(f'DROP TABLE "{name}"')
        log.info("dropped partition %s", name)
        dropped.append(name)
    return tuple(dropped)
