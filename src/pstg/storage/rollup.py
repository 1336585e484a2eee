"""Rollup aggregates of a batch of rows, computed in Python before they are merged in SQL.

This runs for every row the writer stores, so it is built for speed: rows are sorted by
(tag, time) once, each bucket is a slice found by bisection, and min/max/sum run as builtins
over that slice. Coarser levels are merged from the finest level's aggregates, not recomputed
from the rows. Ties (equal minima or maxima) resolve to the earliest time, the same rule as
the SQL merge in store.py, so the stored rollups equal aggregates over the raw samples.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from itertools import groupby
from operator import itemgetter

from pstg.storage.rows import GOOD_CODE, StoredRow

ROLLUP_COLUMNS = (
    "count", "value_count", "good_count", "sum", "min", "min_ts", "max", "max_ts",
    "first", "first_ts", "last", "last_ts",
)  # fmt: skip


class Aggregate:
    """The rollup columns of one (tag, bucket); see schema.py. Value fields are meaningful
    only when value_count > 0."""

    __slots__ = ROLLUP_COLUMNS

    def __init__(self, count: int, good_count: int) -> None:
        self.count = count
        self.good_count = good_count
        self.value_count = 0
        self.sum = self.min = self.max = self.first = self.last = 0.0
        self.min_ts = self.max_ts = self.first_ts = self.last_ts = 0

    def merge(self, other: Aggregate) -> None:
        """Combine with the aggregate of a later or earlier, disjoint set of rows."""
        self.count += other.count
        self.good_count += other.good_count
        if other.value_count == 0:
            return
        if self.value_count == 0:
            for name in ("value_count", "sum", "min", "min_ts", "max", "max_ts",
                         "first", "first_ts", "last", "last_ts"):  # fmt: skip
                setattr(self, name, getattr(other, name))
            return
        self.value_count += other.value_count
        self.sum += other.sum
        if other.min < self.min or (other.min == self.min and other.min_ts < self.min_ts):
            self.min, self.min_ts = other.min, other.min_ts
        if other.max > self.max or (other.max == self.max and other.max_ts < self.max_ts):
            self.max, self.max_ts = other.max, other.max_ts
        if other.first_ts < self.first_ts:
            self.first, self.first_ts = other.first, other.first_ts
        if other.last_ts > self.last_ts:
            self.last, self.last_ts = other.last, other.last_ts

    def columns(self) -> tuple[float | int | None, ...]:
        """The values of ROLLUP_COLUMNS; NULL value columns for a bucket without values."""
        if self.value_count == 0:
            return (self.count, 0, self.good_count, *([None] * 9))
        return (
            self.count, self.value_count, self.good_count, self.sum,
            self.min, self.min_ts, self.max, self.max_ts,
            self.first, self.first_ts, self.last, self.last_ts,
        )  # fmt: skip


Level = dict[tuple[int, int], Aggregate]
"""Aggregates by (tag_id, bucket start in microseconds)."""

_by_tag = itemgetter(0)
_by_key = itemgetter(0, 1)


def aggregate_levels(rows: Sequence[StoredRow], widths: Sequence[int]) -> list[Level]:
    """Aggregates of `rows` (unique (tag, ts) keys) per level, for bucket `widths` in
    microseconds, finest first; each width must be a multiple of the previous one."""
    finest = _finest(rows, widths[0])
    levels = [finest]
    for width in widths[1:]:
        coarser: Level = {}
        for (tag_id, bucket), agg in finest.items():
            key = (tag_id, bucket - bucket % width)
            existing = coarser.get(key)
            if existing is None:
                copy = coarser[key] = Aggregate(0, 0)
                copy.merge(agg)
            else:
                existing.merge(agg)
        levels.append(coarser)
    return levels


def _finest(rows: Sequence[StoredRow], width: int) -> Level:
    out: Level = {}
    for tag_id, group in groupby(sorted(rows, key=_by_key), key=_by_tag):
        tag_rows = list(group)
        times = [row[1] for row in tag_rows]
        start, end = 0, len(tag_rows)
        while start < end:
            bucket = times[start] - times[start] % width
            stop = bisect_left(times, bucket + width, start, end)
            out[(tag_id, bucket)] = _bucket(tag_rows[start:stop])
            start = stop
    return out


def _bucket(rows: list[StoredRow]) -> Aggregate:
    agg = Aggregate(len(rows), [row[4] for row in rows].count(GOOD_CODE))
    valued = [row for row in rows if row[2] is not None]
    if not valued:
        return agg
    values: list[float] = [row[2] for row in valued]  # type: ignore[misc]
    low, high = min(values), max(values)
    agg.value_count = len(values)
    agg.sum = sum(values)
    # Rows are in time order, so index() finds the earliest occurrence of a tie.
    agg.min, agg.min_ts = low, valued[values.index(low)][1]
    agg.max, agg.max_ts = high, valued[values.index(high)][1]
    agg.first, agg.first_ts = values[0], valued[0][1]
    agg.last, agg.last_ts = values[-1], valued[-1][1]
    return agg
