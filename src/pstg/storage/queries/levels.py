"""Which level answers which part of a time range: raw samples, 1-minute, 10-minute or 1-hour
rollups.

The writer writes a rollup bucket once it closes (storage/open_buckets.py), so for each tag
and level the newest stored bucket may still be incomplete, and the buckets after it are not
written yet. Queries therefore read a level only before the tag's newest bucket there (its
cutoff) and the rest from the level below, down to the raw samples: the newest minute is
never missing, and the extra reading is at most the open bucket's worth of rows.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

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


def cutoffs(connection: Connection, tag_id: int) -> Cutoffs:
    """The tag's newest stored bucket of each rollup level (one index probe each)."""
    levels: tuple[Source, ...] = ("rollups_1m", "rollups_10m", "rollups_1h")
    newest = ", ".join(f"(SELECT max(bucket) FROM {level} WHERE tag_id = :tag)" for level in levels)
    row = connection.execute(sa.text(f"SELECT {newest}"), {"tag": tag_id}).one()
    return dict(zip(levels, row, strict=True))


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
