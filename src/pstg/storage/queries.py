"""Reading the time series: raw pages, chart trends, summaries and the latest values.

The REST API calls these; each takes an Engine (or an open Connection), a tag id and aware
datetimes, and returns plain records (NamedTuples, slotted dataclasses) with times converted
back to datetimes. Invalid arguments raise ValueError with the reason.

- `series`: raw samples of one tag, a page at a time (keyset paging on the timestamp).
- `trend`: `points` equal buckets over a range, each with first/last/min/max (the M4 idea: a
  line drawn through those four per pixel column looks like one drawn through every sample)
  plus avg and counts, aggregated in the database from the coarsest level that fits — raw
  samples, 1-minute or 1-hour rollups. Empty buckets are gaps unless the last value before
  them is good and younger than the staleness, which is how report-by-exception data looks
  while a value sits still between heartbeats.
- `summary`: min/max/averages/counts over a range from rollups where whole buckets fit and
  raw samples at the ragged edges.
- `latest`: the last stored sample of each tag, in one query.

Times in the database are integer microseconds (rows.py); so is every bound computed here,
so bucket edges are exact. Aggregation happens in the database, one row per non-empty
bucket; how each backend picks a group's first and last value is explained at _trend_sql.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.model import DataType, Quality, QualityReason
from pstg.storage.rows import (
    GOOD_CODE,
    MICROSECONDS,
    QUALITY_OF_CODE,
    REASON_OF_CODE,
    from_micros,
    to_micros,
)
from pstg.storage.schema import HOUR_US, MINUTE_US

MAX_SERIES_LIMIT = 10_000
MAX_TREND_POINTS = 5_000
DEFAULT_HEARTBEAT = 300.0
"""Seconds; StorageConfig.heartbeat's default."""
DEFAULT_STALENESS = 1.5 * DEFAULT_HEARTBEAT
"""Seconds a good value is taken to hold when nothing newer is stored (1.5 heartbeats)."""
SUMMARY_RAW_SPAN = 2 * HOUR_US
"""Summaries of ranges shorter than this read raw samples only."""
TWA_RAW_SPAN = 2 * 86_400 * MICROSECONDS
"""Time-weighted averages of ranges up to this long are computed from raw samples."""

TrendSource = Literal["raw", "rollups_1m", "rollups_1h"]


class SeriesPoint(NamedTuple):
    ts: datetime
    value: float | str | None
    """A number, the text of a string tag, or None (a bad sample)."""
    quality: Quality
    reason: QualityReason


class SeriesPage(NamedTuple):
    points: list[SeriesPoint]
    next_after: datetime | None
    """Pass as `after` to get the next page; None when this page is the last."""


@dataclass(slots=True)
class TrendBucket:
    """One pixel column of a trend (a plain record: thousands are made per call)."""

    start: datetime
    end: datetime
    first: float | None
    last: float | None
    min: float | None
    max: float | None
    avg: float | None
    """Mean of the values (not time-weighted)."""
    count: int
    """Samples in the bucket, good or not."""
    value_count: int
    good_count: int
    gap: bool
    """No value to draw: no samples and no fresh good value before, or only bad samples."""
    carried: bool
    """No samples, but the last good value before is fresh: values are that value."""


class Trend(NamedTuple):
    tag_id: int
    start: datetime
    end: datetime
    source: TrendSource
    staleness: float
    """Seconds, as used for carrying values into empty buckets."""
    buckets: list[TrendBucket]


@dataclass(frozen=True, slots=True)
class Summary:
    min: float | None
    min_ts: datetime | None
    """Earliest time the minimum occurred."""
    max: float | None
    max_ts: datetime | None
    time_weighted_avg: float | None
    avg: float | None
    """Mean of the values (uncertain and bad samples that carry a value included)."""
    count: int
    value_count: int
    good_count: int
    percent_good: float | None
    first_ts: datetime | None
    """Time of the first sample with a value."""
    last_ts: datetime | None
    """Time of the last sample with a value."""


# --- series ----------------------------------------------------------------------------------


def series(
    engine: Engine | Connection,
    tag_id: int,
    start: datetime,
    end: datetime,
    *,
    limit: int = 1000,
    after: datetime | None = None,
) -> SeriesPage:
    """Raw samples of one tag with start <= ts < end (and ts > `after`), oldest first."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    limit = min(limit, MAX_SERIES_LIMIT)
    low, high = _micros(start, "start"), _micros(end, "end")
    params: dict[str, Any] = {"tag": tag_id, "low": low, "high": high, "n": limit + 1}
    keyset = ""
    if after is not None:
        params["after"] = _micros(after, "after")
        keyset = " AND ts > :after"
    where = f"tag_id = :tag AND ts >= :low AND ts < :high{keyset}"
    select = f"SELECT ts, value, quality, reason FROM samples WHERE {where}"
    with _connect(engine) as connection:
        if _is_text(connection, tag_id):
            # The writer stores a text tag's bad samples (no text) with the numbers.
            select = (
                f"SELECT ts, value, quality, reason FROM text_samples WHERE {where} UNION ALL "
                f"SELECT ts, CAST(NULL AS TEXT), quality, reason FROM samples WHERE {where}"
            )
        rows = connection.execute(sa.text(f"{select} ORDER BY ts LIMIT :n"), params).all()
    points = [_point(ts, value, quality, reason) for ts, value, quality, reason in rows[:limit]]
    return SeriesPage(points, points[-1].ts if len(rows) > limit else None)


# --- trend -----------------------------------------------------------------------------------


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
_HOURS = _MINUTES._replace(source="rollups_1h", table="rollups_1h", width=HOUR_US)


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
    an hour or more, 1-minute rollups for a minute or more, raw samples below that. A rollup
    row counts in the bucket that contains its start: exact when the bucket width is a
    multiple of the rollup width and `start` is aligned to it; otherwise a bucket edge may
    fall inside a rollup row, which then counts whole on the side of its start.

    `staleness` (seconds, default 1.5 × the 300 s default heartbeat): an empty bucket whose
    start is less than this after the tag's last stored sample, when that sample is good,
    is `carried` — its values are that sample's value — instead of a gap. The rollups tell
    the last sample of a bucket whose samples are all good; otherwise (and for empty buckets
    at the start) it is looked up in the raw samples, so past the raw retention such
    buckets are gaps.
    """
    low, high = _micros(start, "start"), _micros(end, "end")
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
    level = _RAW if span < MINUTE_US * points else _MINUTES if span < HOUR_US * points else _HOURS
    # Bucket i is [low + ceil(i*span/points), low + ceil((i+1)*span/points)): exactly the
    # times t with (t - low) * points // span == i, which is how the database groups them.
    edges = [low + -(-i * span // points) for i in range(points + 1)]
    params = {"tag": tag_id, "low": low, "high": high, "points": points, "span": span}
    with _connect(engine) as connection:
        if _is_text(connection, tag_id):
            raise ValueError(f"tag {tag_id} holds text; a trend needs a numeric tag")
        rows = connection.execute(_trend_sql(connection, level), params)
        groups = {group.idx: group for group in map(_Group._make, rows)}
        buckets = _buckets(connection, tag_id, edges, groups, round(staleness * MICROSECONDS))
    return Trend(tag_id, start, end, level.source, staleness, buckets)


def _trend_sql(connection: Connection, level: _Level) -> sa.TextClause:
    """Per bucket index (only non-empty ones): the aggregates, "first" and "last"."""
    where = f"tag_id = :tag AND {level.time} >= :low AND {level.time} < :high"
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


class _Group(NamedTuple):
    """One non-empty bucket as the database aggregated it (columns of _trend_sql)."""

    idx: int
    n: int
    vn: int
    gn: int
    s: float | None
    lo: float | None
    hi: float | None
    fts: int | None
    lts: int | None
    first: float | None
    last: float | None


class _Held(NamedTuple):
    """A good value that empty buckets after `ts` may carry."""

    ts: int
    value: float | None


_UNKNOWN = _Held(0, None)


def _buckets(
    connection: Connection,
    tag_id: int,
    edges: list[int],
    groups: dict[int, _Group],
    staleness: int,
) -> list[TrendBucket]:
    points = len(edges) - 1
    # What each non-empty bucket leaves for the empty buckets after it; where only the raw
    # samples can tell, look up the last sample before the first empty bucket (one query).
    left = {i: _left_behind(group, edges[i + 1], staleness) for i, group in groups.items()}
    lookups: list[int] = []
    unknown = True  # before the first bucket nothing is known
    for i in range(points):
        if i in left:
            unknown = left[i] is _UNKNOWN
        elif unknown:
            lookups.append(edges[i])
            unknown = False
    found = _last_before(connection, tag_id, lookups)

    times = [from_micros(edge) for edge in edges]
    buckets: list[TrendBucket] = []
    carry: _Held | None = None
    for i in range(points):
        group = groups.get(i)
        if group is not None:
            carry = left[i]
            if carry is _UNKNOWN:
                carry = None
            buckets.append(
                TrendBucket(
                    times[i],
                    times[i + 1],
                    group.first,
                    group.last,
                    group.lo,
                    group.hi,
                    group.s / group.vn if group.vn and group.s is not None else None,
                    group.n,
                    group.vn,
                    group.gn,
                    gap=not group.vn,
                    carried=False,
                )
            )
            continue
        carry = found.get(edges[i], carry)
        if carry is not None and edges[i] - carry.ts >= staleness:
            carry = None
        if carry is None:
            buckets.append(TrendBucket(times[i], times[i + 1], *_GAP))
        else:
            v = carry.value
            buckets.append(TrendBucket(times[i], times[i + 1], v, v, v, v, v, 0, 0, 0, False, True))
    return buckets


_GAP = (None, None, None, None, None, 0, 0, 0, True, False)
"""The fields of an empty bucket with nothing to carry, after start and end."""


def _left_behind(group: _Group, next_edge: int, staleness: int) -> _Held | None:
    """The good value a non-empty bucket leaves for the empty buckets after it: None if
    there is none (no value, or the last value is too old by the next bucket), _UNKNOWN if
    only the raw samples can tell (a mix of good and other samples)."""
    if group.lts is None or next_edge - group.lts >= staleness:
        return None
    if group.gn == group.n == group.vn:
        return _Held(group.lts, group.last)
    return _UNKNOWN


def _last_before(
    connection: Connection, tag_id: int, times: Sequence[int]
) -> dict[int, _Held | None]:
    """The value of the last sample of `tag_id` before each of `times` (None where that
    sample is not good), in one query; times without any sample before are left out."""
    if not times:
        return {}
    marks = ", ".join(f"(CAST(:t{n} AS BIGINT))" for n in range(len(times)))
    params: dict[str, int] = {f"t{n}": at for n, at in enumerate(times)}
    params["tag"] = tag_id
    rows = connection.execute(
        sa.text(
            f"WITH t(at) AS (VALUES {marks}), "
            "p AS (SELECT at, (SELECT max(m.ts) FROM samples m "
            "WHERE m.tag_id = :tag AND m.ts < t.at) AS ts FROM t) "
            "SELECT p.at, s.ts, s.value, s.quality FROM p "
            "JOIN samples s ON s.tag_id = :tag AND s.ts = p.ts"
        ),
        params,
    )
    return {
        at: _Held(ts, value) if quality == GOOD_CODE and value is not None else None
        for at, ts, value, quality in rows
    }


# --- summary ---------------------------------------------------------------------------------

_RAW_AS_ROLLUP = (
    "SELECT 1 AS n, CASE WHEN value IS NULL THEN 0 ELSE 1 END AS vn, "
    f"CASE WHEN quality = {GOOD_CODE} THEN 1 ELSE 0 END AS gn, value AS s, "
    "value AS lo, CASE WHEN value IS NOT NULL THEN ts END AS lo_ts, "
    "value AS hi, CASE WHEN value IS NOT NULL THEN ts END AS hi_ts, "
    "CASE WHEN value IS NOT NULL THEN ts END AS fts, "
    "CASE WHEN value IS NOT NULL THEN ts END AS lts "
    "FROM samples WHERE tag_id = :tag AND ts >= :lo{n} AND ts < :hi{n}"
)
_ROLLUP = (
    'SELECT "count" AS n, value_count AS vn, good_count AS gn, "sum" AS s, "min" AS lo, '
    'min_ts AS lo_ts, "max" AS hi, max_ts AS hi_ts, first_ts AS fts, last_ts AS lts '
    "FROM {table} WHERE tag_id = :tag AND bucket >= :lo{n} AND bucket < :hi{n}"
)


def summary(engine: Engine | Connection, tag_id: int, start: datetime, end: datetime) -> Summary:
    """Min, max, averages and counts of one tag over [start, end).

    Counts and extremes come from whole 1-hour and 1-minute rollup buckets inside the range
    and from raw samples at the ragged edges (raw samples only when the range is under 2 h),
    so they are exact. The time-weighted average takes each good value to hold until the
    next sample of any quality, or until `end`; the value stored last before `start` holds
    into the range. Up to 2 days it is computed from raw samples (uncertain and bad samples
    end a value and add no time); beyond that from 1-minute rollups: each bucket with a good
    sample counts with its mean over its own minute and with its last value until the next
    stored bucket — an approximation for minutes that mix good and bad samples.
    """
    low, high = _micros(start, "start"), _micros(end, "end")
    if low >= high:
        raise ValueError(f"start must be before end, got start={start} and end={end}")
    params: dict[str, int] = {"tag": tag_id, "low": low, "high": high}
    parts = []
    for n, (table, lo, hi) in enumerate(_summary_segments(low, high)):
        template = _RAW_AS_ROLLUP if table == "samples" else _ROLLUP
        parts.append(template.format(table=table, n=n))
        params[f"lo{n}"], params[f"hi{n}"] = lo, hi
    statement = sa.text(
        f"WITH u AS ({' UNION ALL '.join(parts)}) "
        "SELECT sum(n), sum(vn), sum(gn), sum(s), min(lo), max(hi), min(fts), max(lts), "
        "(SELECT min(lo_ts) FROM u WHERE lo = (SELECT min(lo) FROM u)), "
        "(SELECT min(hi_ts) FROM u WHERE hi = (SELECT max(hi) FROM u)) FROM u"
    )
    with _connect(engine) as connection:
        if _is_text(connection, tag_id):
            raise ValueError(f"tag {tag_id} holds text; a summary needs a numeric tag")
        row = connection.execute(statement, params).one()
        twa = _time_weighted_avg(connection, tag_id, low, high)
    n, vn, gn, total, lo, hi, fts, lts, lo_ts, hi_ts = row
    count, value_count, good_count = int(n or 0), int(vn or 0), int(gn or 0)
    return Summary(
        min=lo,
        min_ts=_datetime(lo_ts),
        max=hi,
        max_ts=_datetime(hi_ts),
        time_weighted_avg=twa,
        avg=total / value_count if value_count else None,
        count=count,
        value_count=value_count,
        good_count=good_count,
        percent_good=100.0 * good_count / count if count else None,
        first_ts=_datetime(fts),
        last_ts=_datetime(lts),
    )


def _summary_segments(low: int, high: int) -> list[tuple[str, int, int]]:
    """[low, high) as (table, from, to) pieces: whole hours, whole minutes, raw edges."""
    if high - low < SUMMARY_RAW_SPAN:
        return [("samples", low, high)]
    m0, m1 = _ceil(low, MINUTE_US), high - high % MINUTE_US
    h0, h1 = _ceil(low, HOUR_US), high - high % HOUR_US
    pieces = [
        ("samples", low, m0),
        ("rollups_1m", m0, h0),
        ("rollups_1h", h0, h1),
        ("rollups_1m", h1, m1),
        ("samples", m1, high),
    ]
    return [piece for piece in pieces if piece[1] < piece[2]]


def _time_weighted_avg(connection: Connection, tag_id: int, low: int, high: int) -> float | None:
    pg = connection.dialect.name == "postgresql"
    greatest, least = ("greatest", "least") if pg else ("max", "min")
    params = {"tag": tag_id, "low": low, "high": high, "width": MINUTE_US}
    if high - low <= TWA_RAW_SPAN:
        statement = (
            "SELECT sum(value * held), sum(held) FROM ("
            f"SELECT value, quality, coalesce(lead(ts) OVER (ORDER BY ts), :high)"
            f" - {greatest}(ts, :low) AS held FROM samples WHERE tag_id = :tag AND ts < :high"
            " AND ts >= coalesce((SELECT max(ts) FROM samples"
            " WHERE tag_id = :tag AND ts <= :low), :low)"
            f") AS h WHERE quality = {GOOD_CODE} AND value IS NOT NULL"
        )
    else:
        statement = (
            'SELECT sum(mean * own + "last" * after), sum(own + after) FROM ('
            'SELECT CASE WHEN value_count > 0 THEN "sum" / value_count END AS mean, "last",'
            " value_count, good_count,"
            f" {greatest}({least}(bucket + :width, :high) - {greatest}(bucket, :low), 0) AS own,"
            f" {greatest}(coalesce(lead(bucket) OVER (ORDER BY bucket), :high)"
            f" - {greatest}(bucket + :width, :low), 0) AS after"
            " FROM rollups_1m WHERE tag_id = :tag AND bucket < :high"
            " AND bucket >= coalesce((SELECT max(bucket) FROM rollups_1m"
            " WHERE tag_id = :tag AND bucket <= :low), :low)"
            ") AS h WHERE value_count > 0 AND good_count > 0"
        )
    weighted, duration = connection.execute(sa.text(statement), params).one()
    if not duration:
        return None
    return float(weighted) / float(duration)


# --- latest ----------------------------------------------------------------------------------


def latest(engine: Engine | Connection, tag_ids: Sequence[int]) -> dict[int, SeriesPoint]:
    """The last stored sample of each tag (numbers and text alike); tags without any are
    left out."""
    if not tag_ids:
        return {}
    marks = ", ".join(f"(CAST(:t{n} AS BIGINT))" for n in range(len(tag_ids)))
    params = {f"t{n}": tag_id for n, tag_id in enumerate(tag_ids)}

    def last_of(table: str, number: str, text: str) -> str:
        # Per tag: the newest ts by a backwards index probe, then that row by primary key.
        return (
            f"SELECT s.tag_id, s.ts, {number}, {text}, s.quality, s.reason FROM "
            f"(SELECT t.id, (SELECT max(m.ts) FROM {table} m WHERE m.tag_id = t.id) AS ts "
            f"FROM t) AS p JOIN {table} s ON s.tag_id = p.id AND s.ts = p.ts"
        )

    statement = sa.text(
        f"WITH t(id) AS (VALUES {marks}) "
        + last_of("samples", "s.value", "CAST(NULL AS TEXT)")
        + " UNION ALL "
        + last_of("text_samples", "CAST(NULL AS DOUBLE PRECISION)", "s.value")
    )
    out: dict[int, SeriesPoint] = {}
    newest: dict[int, int] = {}
    with _connect(engine) as connection:
        for tag_id, ts, number, text, quality, reason in connection.execute(statement, params):
            if ts > newest.get(tag_id, ts - 1):
                newest[tag_id] = ts
                out[tag_id] = _point(ts, number if text is None else text, quality, reason)
    return out


# --- helpers ---------------------------------------------------------------------------------


@contextmanager
def _connect(engine: Engine | Connection) -> Iterator[Connection]:
    if isinstance(engine, Connection):
        yield engine
        return
    with engine.connect() as connection:
        yield connection


def _is_text(connection: Connection, tag_id: int) -> bool:
    data_type = connection.execute(
        sa.text("SELECT data_type FROM tags WHERE id = :tag"), {"tag": tag_id}
    ).scalar_one_or_none()
    return bool(data_type == DataType.STRING.value)


def _micros(ts: datetime, name: str) -> int:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {ts!r}")
    return to_micros(ts)


def _datetime(micros: int | None) -> datetime | None:
    return None if micros is None else from_micros(int(micros))


def _ceil(micros: int, width: int) -> int:
    return -(-micros // width) * width


def _point(ts: int, value: float | str | None, quality: int, reason: int) -> SeriesPoint:
    return SeriesPoint(from_micros(ts), value, QUALITY_OF_CODE[quality], REASON_OF_CODE[reason])
