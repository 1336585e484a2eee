"""Empty trend buckets: a gap, or the last good value carried while it is fresh.

Report by exception stores a value that sits still once per heartbeat, so an empty bucket
shortly after a good sample means "unchanged", not "unknown". The rollups tell the last value
of a bucket whose samples are all good; otherwise the last sample before the first empty
bucket of a run is looked up in the raw samples (one query for all such buckets).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pstg.storage.queries.records import Group, TrendBucket
from pstg.storage.rows import GOOD_CODE, from_micros


class _Held(NamedTuple):
    """A good value that empty buckets after `ts` may carry."""

    ts: int
    value: float | None


_UNKNOWN = _Held(0, None)


def bucket_list(
    connection: Connection,
    tag_id: int,
    edges: list[int],
    groups: dict[int, Group],
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


def _left_behind(group: Group, next_edge: int, staleness: int) -> _Held | None:
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
