"""The writer's rollups: the current bucket of each level kept in memory, written once.

Merging every flush into the rollup tables cost two upserts per tag per flush: with 20,000
tags and a 1 s flush, one upsert per sample per level, and the writer ran at 0.11x the raw
insert. Here each level (1 min, 10 min, 1 h) has one *open* bucket — the newest one the rows have
reached, never one that starts after the wall clock's current bucket — whose aggregates per
tag live in memory (NumPy columns, merged by rollup.py's rules) and are written when the
bucket closes: when rows of a newer bucket arrive, or at `close`. Rows of any other bucket
(late, replayed from the spool, imported) are merged into the table at once, in the same
transaction as their insert. Memory: one aggregate per tag and level (about 250 bytes).

Exact under replays, duplicates and any order: only rows the store actually inserted are
aggregated, and the in-memory state changes only after their transaction committed.

A crash loses the open buckets' aggregates, never the raw rows. A row in `open_rollups`
says a writer of the station holds open buckets, and which (updated in the transaction that
moves one, once a minute); a clean `close` writes them and deletes the row. If the next start
finds the row, those buckets are recomputed for the station's tags — the minute from the raw
rows, each coarser level from the one below — before anything else is written. Queries
treat a tag's newest stored bucket of each level as possibly incomplete and read that part
from the level below (queries/levels.py), so the newest minute is never missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.storage.columns import Ids, SampleColumns
from pstg.storage.id_lists import id_table
from pstg.storage.rollup import Aggregates, merge_by_tag
from pstg.storage.rollup_sql import merge_rollups, replace_rollups
from pstg.storage.schema import ROLLUPS


@dataclass
class _Level:
    table: str
    width: int
    bucket: int | None = None
    """Start of the open bucket (µs), None before the first row."""
    state: Aggregates = field(default_factory=Aggregates.empty)
    """Aggregates of the open bucket, one per tag with rows in it, by tag id."""


@dataclass(frozen=True)
class _Change:
    """What one transaction does to a level: aggregates merged into the table now, and, once
    the transaction has committed, the open bucket and the rows that join its state (all of
    it if `reopened`: the bucket moved on)."""

    direct: Aggregates
    bucket: int | None
    joining: Aggregates
    reopened: bool


class OpenBuckets:
    """Keeps the rollups of the writer's rows: `register` once before the first insert, then
    `after_insert` inside each insert's transaction (SampleStore.insert's `then`) and
    `committed` once it has committed; `close` and `closed` at the end."""

    def __init__(
        self, station_id: int, tag_ids: Ids, *, now_us: Callable[[], int] | None = None
    ) -> None:
        self.station_id = station_id
        self.tag_ids = tag_ids
        self.levels = [_Level(table.name, width) for table, width in ROLLUPS]
        self.recomputed = 0
        """Buckets recomputed at start after a crash."""
        self._now_us = now_us or _wall_clock_us
        self._registered = False
        self._uncommitted: list[_Change] | None = None

    @property
    def open_tags(self) -> int:
        """Tags with rows in the open bucket of the finest level."""
        return len(self.levels[0].state)

    def register(self, engine: Engine) -> None:
        """Before the first insert, in a transaction of its own (the recomputation must not
        see the rows of the insert, which `after_insert` adds): recompute what a crashed
        writer of the station left, and record that this one holds open buckets."""
        if self._registered:
            return
        with engine.begin() as connection:
            self._register(connection)
        self._registered = True

    def after_insert(self, connection: Connection, inserted: SampleColumns) -> None:
        """Merge rows of closed or late buckets, plan the open buckets' new state."""
        self._uncommitted = None
        if not self._registered:
            raise RuntimeError("OpenBuckets.register() must run before the first insert")
        changes: list[_Change] = []
        finest = Aggregates.of_samples_grouped(inserted, self.levels[0].width)
        now = self._now_us()
        moved: dict[str, int | None] = {}
        for level in self.levels:
            aggregates = finest if level is self.levels[0] else finest.rebucketed(level.width)
            change = _advance(level, aggregates, now - now % level.width)
            merge_rollups(connection, level.table, change.direct)
            changes.append(change)
            if change.bucket != level.bucket:
                moved[level.table] = change.bucket
        if moved:
            sets = ", ".join(f"{table} = :{table}" for table in moved)
            connection.execute(
                sa.text(f"UPDATE open_rollups SET {sets} WHERE station_id = :station"),
                {"station": self.station_id, **moved},
            )
        self._uncommitted = changes

    def committed(self) -> None:
        """The transaction of the last `after_insert` committed: take on the planned state."""
        changes, self._uncommitted = self._uncommitted, None
        if changes is None:
            return
        for level, change in zip(self.levels, changes, strict=True):
            # Merged only now: the merge updates the state in place.
            if change.reopened:
                level.state = change.joining
            else:
                level.state = merge_by_tag(level.state, change.joining)
            level.bucket = change.bucket

    def close(self, connection: Connection) -> None:
        """Write every open bucket and say so (`open_rollups` row deleted); call `closed`
        once the transaction committed. A writer that never wrote first recomputes what a
        crashed one may have left."""
        if not self._registered:
            self._register(connection)
        for level in self.levels:
            merge_rollups(connection, level.table, level.state)
        connection.execute(
            sa.text("DELETE FROM open_rollups WHERE station_id = :station"),
            {"station": self.station_id},
        )

    def closed(self) -> None:
        for level in self.levels:
            level.bucket, level.state = None, Aggregates.empty()
        self._registered = False

    def _register(self, connection: Connection) -> None:
        """Recompute the buckets a crashed writer of this station left open, then record
        that this one holds open buckets (none yet)."""
        columns = ", ".join(level.table for level in self.levels)
        left = connection.execute(
            sa.text(f"SELECT {columns} FROM open_rollups WHERE station_id = :station"),
            {"station": self.station_id},
        ).first()
        if left is not None:
            self.recomputed = recompute_buckets(
                connection, self.station_id, self.tag_ids, list(left)
            )
        nulls = ", ".join(f"{level.table} = NULL" for level in self.levels)
        connection.execute(
            sa.text(
                "INSERT INTO open_rollups (station_id, since) VALUES (:station, :now) "
                f"ON CONFLICT (station_id) DO UPDATE SET since = excluded.since, {nulls}"
            ),
            {"station": self.station_id, "now": self._now_us()},
        )


def _advance(level: _Level, aggregates: Aggregates, current: int) -> _Change:
    """The change `aggregates` (rows of one transaction, by bucket) make to `level`, whose
    open bucket may not start after `current` (the wall clock's bucket)."""
    eligible = aggregates.bucket[aggregates.bucket <= current]
    bucket = level.bucket
    if len(eligible):
        newest = int(eligible.max())
        bucket = newest if bucket is None else max(bucket, newest)
    if bucket is None:
        return _Change(aggregates, None, Aggregates.empty(), reopened=False)
    in_open = aggregates.bucket == bucket
    direct = aggregates.select(~in_open)
    reopened = bucket != level.bucket
    if reopened:  # the open bucket closes: write it with the rest
        direct = Aggregates.concat([direct, level.state])
    return _Change(direct.reduced(), bucket, aggregates.select(in_open), reopened)


def recompute_buckets(
    connection: Connection, station_id: int, tag_ids: Ids, starts: list[int | None]
) -> int:
    """Recompute bucket `starts[i]` of rollup level i (finest first; None: none) for the
    station's tags from the raw samples (the finest) or the level below (the others), and
    overwrite what the tables held; returns how many buckets were written. One statement
    per level, whatever the number of tags."""
    with_station = connection.execute(
        sa.text("SELECT id FROM tags WHERE station_id = :station"), {"station": station_id}
    ).scalars()
    ids, params = id_table(connection, sorted({*tag_ids.tolist(), *with_station}))
    written = 0
    below: str | None = None
    for (table, width), start in zip(ROLLUPS, starts, strict=True):
        if start is not None:
            bounds = {**params, "lo": start, "hi": start + width}
            if below is None:
                rows = connection.execute(
                    sa.text(
                        f"SELECT s.tag_id, s.ts, s.value, s.quality FROM ({ids}) i "
                        "JOIN samples s ON s.tag_id = i.id AND s.ts >= :lo AND s.ts < :hi"
                    ),
                    bounds,
                ).all()
                aggregates = Aggregates.of_samples_grouped(_samples(rows), width)
            else:
                rows = connection.execute(
                    sa.text(
                        f"SELECT r.* FROM ({ids}) i JOIN {below} r "
                        "ON r.tag_id = i.id AND r.bucket >= :lo AND r.bucket < :hi"
                    ),
                    bounds,
                ).all()
                aggregates = Aggregates.from_rows(rows).rebucketed(width)
            replace_rollups(connection, table.name, aggregates)
            written += len(aggregates)
        below = table.name
    return written


def _samples(rows: Sequence[sa.Row[Any]]) -> SampleColumns:
    if not rows:
        return SampleColumns.empty()
    tag_ids, stamps, values, qualities = zip(*rows, strict=True)
    n = len(rows)
    return SampleColumns(
        np.array(tag_ids, dtype=np.int64),
        np.array(stamps, dtype=np.int64),
        np.array([np.nan if v is None else v for v in values], dtype=np.float64),
        np.array(qualities, dtype=np.uint8),
        np.zeros(n, dtype=np.uint8),
    )


def _wall_clock_us() -> int:
    return time.time_ns() // 1000
