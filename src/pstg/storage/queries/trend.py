"""Chart trends: `points` equal buckets over a range, each with first/last/min/max (the M4
idea: a line drawn through those four per pixel column looks like one drawn through every
sample) plus avg and counts, aggregated in the database from the coarsest level that fits —
raw samples, 1-minute, 10-minute or 1-hour rollups — and, past the tag's newest stored bucket
of that level, from the levels below (levels.py). Empty buckets are gaps unless the last value
before them is good and younger than the staleness (carry.py).

Times in the database are integer microseconds, and so is every bound computed here, so
bucket edges are exact. Aggregation happens in the database, one row per non-empty bucket
and level piece; how each backend picks a group's first and last value is explained at
_trend_sql.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.storage.queries.carry import bucket_list
from pstg.storage.queries.common import connect, is_text, micros
from pstg.storage.queries.levels import extent, plan
from pstg.storage.queries.records import Group, Trend, TrendBucket, TrendSource
from pstg.storage.rows import GOOD_CODE, MICROSECONDS
from pstg.storage.schema import HOUR_US, MINUTE_US, TEN_MINUTES_US

MAX_TREND_POINTS = 5_000
DEFAULT_HEARTBEAT = 300.0
"""Seconds; StorageConfig.heartbeat's default."""
DEFAULT_STALENESS = 1.5 * DEFAULT_HEARTBEAT
"""Seconds a good value is taken to hold when nothing newer is stored (1.5 heartbeats)."""

__all__ = ["MAX_TREND_POINTS", "Trend", "TrendBucket", "TrendSource", "trend"]


class _Level(NamedTuple):
    """Where a trend reads from, and how its columns aggregate."""

    source: TrendSource
    table: str
    time: str
    """The row's time: ts of a sample, bucket of a rollup."""
    width: int
    """Microseconds a row covers: 1 for samples."""
    aggregates: str
    """n, vn, gn, s, lo, hi, fts, lts: counts, sum, extremes, times of first and last value."""
    first: tuple[str, str]
    """The first value of a row and its time (a rollup's first/first_ts; a sample's value/ts)."""
    last: tuple[str, str]


_RAW = _Level(
    "raw",
    "samples",
    "ts",
    1,
    f"count(*) AS n, count(value) AS vn, sum(CASE WHEN quality = {GOOD_CODE} THEN 1 ELSE 0 END)"
    " AS gn, sum(value) AS s, min(value) AS lo, max(value) AS hi,"
    " min(CASE WHEN value IS NOT NULL THEN ts END) AS fts,"
    " max(CASE WHEN value IS NOT NULL THEN ts END) AS lts",
    ("value", "ts"),
    ("value", "ts"),
)
_ROLLUP_AGGREGATES = (
    'sum("count") AS n, sum(value_count) AS vn, sum(good_count) AS gn, sum("sum") AS s, '
    'min("min") AS lo, max("max") AS hi, min(first_ts) AS fts, max(last_ts) AS lts'
)
_MINUTES = _Level(
    "rollups_1m", "rollups_1m", "bucket", MINUTE_US, _ROLLUP_AGGREGATES,
    ('"first"', "first_ts"), ('"last"', "last_ts"),
)  # fmt: skip
_TEN_MINUTES = _MINUTES._replace(source="rollups_10m", table="rollups_10m", width=TEN_MINUTES_US)
_HOURS = _MINUTES._replace(source="rollups_1h", table="rollups_1h", width=HOUR_US)
_LEVELS = {level.source: level for level in (_RAW, _MINUTES, _TEN_MINUTES, _HOURS)}
_COARSEST_FIRST = (_HOURS, _TEN_MINUTES, _MINUTES)


def trend(
    engine: Engine | Connection,
    tag_id: int,
    start: datetime,
    end: datetime,
    points: int,
    *,
    staleness: float | None = None,
) -> Trend:
    """`points` equal buckets over [start, end) with first/last/min/max/avg and counts.

    The source is the coarsest level no wider than a bucket: 1-hour rollups for buckets of
    an hour or more, 10-minute rollups for ten minutes or more, 1-minute rollups for a minute
    or more, raw samples below that. A rollup
    row counts in the bucket that contains its start: exact when the bucket width is a
    multiple of the rollup width and `start` is aligned to it; otherwise a bucket edge may
    fall inside a rollup row, which then counts whole on the side of its start. From the
    tag's newest stored bucket of a level on, the level below is read instead; before the
    level's oldest row, when retention has deleted what it held there, the next coarser
    level that still holds rows (levels.py).

    `staleness` (seconds, default 1.5 × the 300 s default heartbeat): an empty bucket whose
    start is less than this after the tag's last stored sample, when that sample is good,
    is `carried` — its values are that sample's value — instead of a gap. The rollups tell
    the last sample of a bucket whose samples are all good; otherwise (and for empty buckets
    at the start) it is looked up in the raw samples, so past the raw retention such
    buckets are gaps.
    """
    low, high = micros(start, "start"), micros(end, "end")
    if not 1 <= points <= MAX_TREND_POINTS:
        raise ValueError(f"points must be between 1 and {MAX_TREND_POINTS}, got {points}")
    if low >= high:
        raise ValueError(f"start must be before end, got start={start} and end={end}")
    span = high - low
    if span * points >= 2**63:
        raise ValueError(f"the range {start} to {end} is too long for {points} points")
    if staleness is None:
        staleness = DEFAULT_STALENESS
    if staleness < 0:
        raise ValueError(f"staleness must not be negative, got {staleness}")
    level = next((each for each in _COARSEST_FIRST if span >= each.width * points), _RAW)
    # Bucket i is [low + ceil(i*span/points), low + ceil((i+1)*span/points)): exactly the
    # times t with (t - low) * points // span == i, which is how the database groups them.
    edges = [low + -(-i * span // points) for i in range(points + 1)]
    with connect(engine) as connection:
        if is_text(connection, tag_id):
            raise ValueError(f"tag {tag_id} holds text; a trend needs a numeric tag")
        pieces = plan(level.source, low, high, extent(connection, tag_id))
        groups: dict[int, Group] = {}
        for piece in pieces:
            params = {"tag": tag_id, "low": low, "points": points, "span": span,
                      "lo": piece.low, "hi": piece.high}  # fmt: skip
            rows = connection.execute(_trend_sql(connection, _LEVELS[piece.source]), params)
            for group in map(Group._make, rows):
                known = groups.get(group.idx)
                groups[group.idx] = group if known is None else _merged(known, group)
        buckets = bucket_list(connection, tag_id, edges, groups, round(staleness * MICROSECONDS))
    return Trend(tag_id, start, end, level.source, staleness, buckets)


def _trend_sql(connection: Connection, level: _Level) -> sa.TextClause:
    """Per bucket index (only non-empty ones): the aggregates, "first" and "last"."""
    where = f"tag_id = :tag AND {level.time} >= :lo AND {level.time} < :hi"
    index = f"({level.time} - :low) * :points / :span"
    (first, first_ts), (last, last_ts) = level.first, level.last
    if connection.dialect.name == "postgresql":
        # The value at the smallest time as min(ARRAY[time, value]): a constant-size state and
        # no sort within the group, unlike array_agg(... ORDER BY ...); times are below 2**53,
        # so float8 holds them exactly. OFFSET 0 keeps the planner from estimating the groups
        # as one per row (it would sort everything, spilling to disk) so it hashes instead.
        return sa.text(
            f"SELECT idx, {level.aggregates}, "
            f"(min(ARRAY[{first_ts}::float8, {first}]) FILTER (WHERE {first} IS NOT NULL))[2]"
            f' AS "first", (max(ARRAY[{last_ts}::float8, {last}]) FILTER '
            f'(WHERE {last} IS NOT NULL))[2] AS "last" '
            f"FROM (SELECT {index} AS idx, * FROM {level.table} WHERE {where} OFFSET 0) AS r "
            "GROUP BY idx ORDER BY idx"
        )

    # SQLite: group, then fetch each group's first and last value by primary key: the row
    # whose span holds that time. (SQLite's bare-column rule gives one arg-min per query, so
    # first and last would take two more grouping passes: measured twice as slow; window
    # functions six times.)
    def row_at(alias: str, ts: str, group_ts: str) -> str:
        if level.width == 1:
            return f"{alias}.{level.time} = g.{group_ts}"
        return (
            f"{alias}.{level.time} > g.{group_ts} - {level.width} AND "
            f"{alias}.{level.time} <= g.{group_ts} AND {alias}.{ts} = g.{group_ts}"
        )

    return sa.text(
        f"WITH g AS (SELECT {index} AS idx, {level.aggregates} "
        f"FROM {level.table} WHERE {where} GROUP BY idx) "
        f'SELECT g.*, f.{first} AS "first", l.{last} AS "last" FROM g '
        f"LEFT JOIN {level.table} f ON f.tag_id = :tag AND {row_at('f', first_ts, 'fts')} "
        f"LEFT JOIN {level.table} l ON l.tag_id = :tag AND {row_at('l', last_ts, 'lts')} "
        "ORDER BY g.idx"
    )


def _merged(a: Group, b: Group) -> Group:
    """One bucket's aggregates from two pieces of disjoint time (two levels)."""

    def add(x: float | None, y: float | None) -> float | None:
        return y if x is None else x if y is None else x + y

    def low(x: float | None, y: float | None) -> float | None:
        return y if x is None else x if y is None else min(x, y)

    def high(x: float | None, y: float | None) -> float | None:
        return y if x is None else x if y is None else max(x, y)

    first = a if b.fts is None or (a.fts is not None and a.fts <= b.fts) else b
    last = a if b.lts is None or (a.lts is not None and a.lts >= b.lts) else b
    return Group(
        a.idx, a.n + b.n, a.vn + b.vn, a.gn + b.gn, add(a.s, b.s),
        low(a.lo, b.lo), high(a.hi, b.hi),
        first.fts, last.lts, first.first, last.last,
    )  # fmt: skip
