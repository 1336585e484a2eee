"""Summaries of one tag over a range: extremes with their times, means, counts.

Exact counts and extremes come from whole rollup buckets inside the range, raw samples at
the ragged edges, and — past the tag's newest stored bucket of a level — the level below
(levels.py), so rows still in the writer's open bucket are counted too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.storage.queries.common import as_datetime, ceil_to, connect, is_text, micros
from pstg.storage.queries.levels import Piece, extent, plan
from pstg.storage.rows import GOOD_CODE, MICROSECONDS
from pstg.storage.schema import HOUR_US, MINUTE_US

SUMMARY_RAW_SPAN = 2 * HOUR_US
"""Summaries of ranges shorter than this read raw samples only."""
TWA_RAW_SPAN = 2 * 86_400 * MICROSECONDS
"""Time-weighted averages of ranges up to this long are computed from raw samples."""


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
    stored bucket — an approximation for minutes that mix good and bad samples; the newest
    minutes, not written yet, count as the last written minute's last value held.
    """
    low, high = micros(start, "start"), micros(end, "end")
    if low >= high:
        raise ValueError(f"start must be before end, got start={start} and end={end}")
    params: dict[str, int] = {"tag": tag_id, "low": low, "high": high}
    parts = []
    with connect(engine) as connection:
        if is_text(connection, tag_id):
            raise ValueError(f"tag {tag_id} holds text; a summary needs a numeric tag")
        segments = _summary_segments(low, high)
        if any(source != "raw" for source, _, _ in segments):
            held = extent(connection, tag_id)
            segments = [piece for s in segments for piece in plan(*s, held)]
        for n, (source, lo, hi) in enumerate(segments):
            template = _RAW_AS_ROLLUP if source == "raw" else _ROLLUP
            parts.append(template.format(table=source, n=n))
            params[f"lo{n}"], params[f"hi{n}"] = lo, hi
        statement = sa.text(
            f"WITH u AS ({' UNION ALL '.join(parts)}) "
            "SELECT sum(n), sum(vn), sum(gn), sum(s), min(lo), max(hi), min(fts), max(lts), "
            "(SELECT min(lo_ts) FROM u WHERE lo = (SELECT min(lo) FROM u)), "
            "(SELECT min(hi_ts) FROM u WHERE hi = (SELECT max(hi) FROM u)) FROM u"
        )
        row = connection.execute(statement, params).one()
        twa = _time_weighted_avg(connection, tag_id, low, high)
    n, vn, gn, total, lo, hi, fts, lts, lo_ts, hi_ts = row
    count, value_count, good_count = int(n or 0), int(vn or 0), int(gn or 0)
    return Summary(
        min=lo,
        min_ts=as_datetime(lo_ts),
        max=hi,
        max_ts=as_datetime(hi_ts),
        time_weighted_avg=twa,
        avg=total / value_count if value_count else None,
        count=count,
        value_count=value_count,
        good_count=good_count,
        percent_good=100.0 * good_count / count if count else None,
        first_ts=as_datetime(fts),
        last_ts=as_datetime(lts),
    )


def _summary_segments(low: int, high: int) -> list[Piece]:
    """[low, high) as pieces: whole hours, whole minutes, raw edges."""
    if high - low < SUMMARY_RAW_SPAN:
        return [Piece("raw", low, high)]
    m0, m1 = ceil_to(low, MINUTE_US), high - high % MINUTE_US
    h0, h1 = ceil_to(low, HOUR_US), high - high % HOUR_US
    pieces = [
        Piece("raw", low, m0),
        Piece("rollups_1m", m0, h0),
        Piece("rollups_1h", h0, h1),
        Piece("rollups_1m", h1, m1),
        Piece("raw", m1, high),
    ]
    return [piece for piece in pieces if piece.low < piece.high]


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
