"""The records trend queries return, and the per-bucket aggregates they are built from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from pstg.storage.queries.levels import Source

TrendSource = Source


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
    """The level the range is read from (the newest part may come from the levels below)."""
    staleness: float
    """Seconds, as used for carrying values into empty buckets."""
    buckets: list[TrendBucket]


class Group(NamedTuple):
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
