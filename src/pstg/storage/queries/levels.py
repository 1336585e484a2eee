"""Which level answers which part of a time range: raw samples, 1-minute, 10-minute or 1-hour
rollups.

The writer writes a rollup bucket once it closes (storage/open_buckets.py), so for each tag
and level the newest stored bucket may still be incomplete, and the buckets after it are not
written yet. Queries therefore read a level only before the tag's newest bucket there (its
cutoff) and the rest from the level below, down to the raw samples: the newest minute is
never missing, and the extra reading is at most the open bucket's worth of rows.

Retention deletes each level's oldest rows after its own span (raw samples after 90 days by
default, 1-minute rollups after 2 years, ...). The part of a range older than a level's oldest
row is therefore read from the next coarser level that still holds rows from then
(`plan`): a 1-hour chart of last year draws from the 1-minute rollups instead of showing a gap.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pstg.storage.queries.common import ceil_to
from pstg.storage.schema import HOUR_US, MINUTE_US, TEN_MINUTES_US

Source = Literal["raw", "rollups_1m", "rollups_10m", "rollups_1h"]

WIDTH: dict[Source, int] = {
    "raw": 1,
    "rollups_1m": MINUTE_US,
    "rollups_10m": TEN_MINUTES_US,
    "rollups_1h": HOUR_US,
}
_BELOW: dict[Source, Source] = {
    "rollups_1h": "rollups_10m",
    "rollups_10m": "rollups_1m",
    "rollups_1m": "raw",
}


class Piece(NamedTuple):
    """Rows of `source` whose time (ts, or bucket start) is in [low, high)."""

    source: Source
    low: int
    high: int


Cutoffs = dict[Source, int | None]
"""Per rollup level, the tag's newest stored bucket (None: no bucket stored)."""

_ROLLUP_LEVELS: tuple[Source, ...] = ("rollups_1m", "rollups_10m", "rollups_1h")
_COARSER: dict[Source, Source] = {lower: upper for upper, lower in _BELOW.items()}


class Extent(NamedTuple):
    """What a tag's levels hold: the newest bucket of each rollup level (`cutoffs`) and the
    oldest time of each level, raw samples included (None: nothing stored there)."""

    cutoffs: Cutoffs
    oldest: dict[Source, int | None]


def extent(connection: Connection, tag_id: int) -> Extent:
    """The tag's Extent, in one statement of one index probe per level and end."""
    newest = [f"(SELECT max(bucket) FROM {level} WHERE tag_id = :tag)" for level in _ROLLUP_LEVELS]
    oldest = ["(SELECT min(ts) FROM samples WHERE tag_id = :tag)"] + [
        f"(SELECT min(bucket) FROM {level} WHERE tag_id = :tag)" for level in _ROLLUP_LEVELS
    ]
    row = connection.execute(sa.text(f"SELECT {', '.join(newest + oldest)}"), {"tag": tag_id})
    values = list(row.one())
    levels: tuple[Source, ...] = ("raw", *_ROLLUP_LEVELS)
    return Extent(
        dict(zip(_ROLLUP_LEVELS, values[:3], strict=True)),
        dict(zip(levels, values[3:], strict=True)),
    )


def plan(source: Source, low: int, high: int, held: Extent) -> list[Piece]:
    """[low, high) of `source` as pieces to read: `split` where the level holds rows; before
    its oldest row, when a coarser level holds rows from before it (retention has deleted the
    level's), that coarser level — up to the end of its bucket holding the oldest row, so no
    time is counted twice."""
    coarser = _COARSER.get(source)
    oldest = held.oldest.get(source)
    if coarser is not None and oldest is not None and low < oldest:
        width = WIDTH[coarser]
        older = held.oldest.get(coarser)
        if older is not None and older < oldest - oldest % width:
            edge = min(high, ceil_to(oldest, width))
            return plan(coarser, low, edge, held) + split(source, edge, high, held.cutoffs)
    return split(source, low, high, held.cutoffs)


def split(source: Source, low: int, high: int, cuts: Cutoffs) -> list[Piece]:
    """[low, high) of `source` as pieces: the level itself before its cutoff, the level
    below from there on (and so on down to the raw samples)."""
    if low >= high:
        return []
    if source == "raw":
        return [Piece(source, low, high)]
    cut = cuts.get(source)
    edge = low if cut is None else max(low, min(high, cut))
    pieces = [Piece(source, low, edge)] if edge > low else []
    return pieces + split(_BELOW[source], edge, high, cuts)
