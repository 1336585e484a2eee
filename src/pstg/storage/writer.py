"""The writer: batches from the pipeline into the database, off the event loop, losing nothing.

- `submit(batch)` is synchronous and cheap (it appends the batch to a list): sources never
  wait for the database. It stores every row it is given; report by exception happens
  upstream (pstg.processing).
- A flusher task writes the pending batches every `flush_interval` seconds, or sooner when
  `batch_size` rows are pending, in a worker thread, one flush at a time: the columns are
  translated to tag ids, inserted in bulk (store.py), and the rollups kept by open_buckets.py.
- When a write fails (the database is down, restarting or locked) the rows go to the on-disk
  spool, and so does every later flush until the spool has been replayed, oldest first;
  inserts are idempotent, so rows whose commit did arrive before the failure are not stored
  twice.
- Back-pressure: memory is bounded by `max_pending_rows`. When storage falls that far behind,
  `submit` hands the pending rows to the spool (written by a worker thread; the event loop
  does not wait) and the flusher replays the spool at the database's pace. The writer says
  so: `stats.behind_seconds` and `stats.overflowed`, a `storage_behind` event, a warning at
  most every `warn_interval` seconds. If rows arrive while that spill is still being written,
  memory is full twice over: the new batch is dropped and counted (`stats.dropped`) like a
  batch a full spool refuses. Nothing is dropped silently.
- `close()` flushes everything (to the database, or to the spool if it is still down) and
  writes the open rollup buckets; a flush under way is never abandoned. A hard kill loses at
  most the rows of the current flush interval (and the open rollups, recomputed at the next
  start from the raw rows).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.batch import Batch
from pstg.model import Event, EventKind, utc_now
from pstg.storage.backlog import Backlog
from pstg.storage.columns import SampleColumns
from pstg.storage.events import event_row, insert_events
from pstg.storage.open_buckets import OpenBuckets
from pstg.storage.spool import Spool
from pstg.storage.store import SampleStore
from pstg.storage.writer_stats import WriterStats

__all__ = ["SampleWriter", "WriterStats"]

log = logging.getLogger("pstg.storage")

MAX_PENDING_EVENTS = 10_000
DEFAULT_MAX_PENDING_ROWS = 1_000_000
BEHIND_AFTER = 10.0
"""Seconds behind (at least; 10 flush intervals if longer) that count as falling behind."""

_T = TypeVar("_T")


class SampleWriter:
    """See the module docstring. Use `async with writer:` or start()/close()."""

    def __init__(
        self,
        engine: Engine,
        *,
        station_id: int,
        tag_ids: npt.ArrayLike,
        spool: Spool,
        flush_interval: float = 1.0,
        batch_size: int = 5000,
        max_pending_rows: int = DEFAULT_MAX_PENDING_ROWS,
        retry_interval: float = 2.0,
        warn_interval: float = 30.0,
    ) -> None:
        """`tag_ids[i]` is the database id of tag index i (pstg.storage.catalog.Catalog.ids)."""
        if max_pending_rows < 1:
            raise ValueError(f"max_pending_rows must be at least 1, got {max_pending_rows}")
        self.store = SampleStore(engine)
        self.engine = engine
        self.station_id = station_id
        self.tag_ids: npt.NDArray[np.int64] = np.asarray(tag_ids, dtype=np.int64)
        self.buckets = OpenBuckets(station_id, self.tag_ids)
        self.spool = spool
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.max_pending_rows = max_pending_rows
        self.retry_interval = retry_interval
        self._stats = WriterStats()
        self._pending: list[Batch] = []
        self._pending_rows = 0
        self._events: deque[Event] = deque(maxlen=MAX_PENDING_EVENTS)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._spill: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._next_retry = 0.0
        self._closing = False
        self._spilling = False  # database writes failed; the spool is taking the rows
        self._backlog = Backlog(
            spooled=bool(spool.batches),
            behind_after=max(BEHIND_AFTER, 10 * flush_interval),
            warn_interval=warn_interval,
            announce=self._announce,
        )
        self.announce: Callable[[Event], None] = self.submit_event
        """Where the writer reports what happens to it (spool used, behind, caught up): into
        its own journal by default; the storage sink points it at the pipeline, so the log and
        the other sinks hear it too (and the journal gets it back through `submit_event`)."""
        self._update_spool_stats()

    @property
    def stats(self) -> WriterStats:
        """The counters, with `pending`, `behind_seconds` and the spool figures of now."""
        stats = self._stats
        stats.pending = self._pending_rows
        stats.behind_seconds = self._backlog.seconds(time.monotonic())
        return stats

    # --- the pipeline's side ------------------------------------------------------------------

    def submit(self, batch: Batch) -> None:
        """Queue a batch for storage. Never blocks; memory stays under `max_pending_rows`."""
        rows = len(batch)
        if not rows:
            return
        self._stats.received += rows
        if self._pending_rows + rows > self.max_pending_rows and self._pending:
            if self._spill is not None:
                self._drop_overflow(rows)
                return
            self._spill_pending()
        if not self._pending:
            self._backlog.pending_since = time.monotonic()
        self._pending.append(batch)
        self._pending_rows += rows
        if self._pending_rows >= self.batch_size:
            self._wake.set()

    def submit_event(self, event: Event) -> None:
        """Queue an event for the journal (the oldest are dropped past 10,000 pending)."""
        self._events.append(event)
        self._stats.events_pending = len(self._events)

    def _announce(self, event: Event) -> None:
        self.announce(event)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="sample writer")

    async def close(self) -> None:
        """Stop the flusher, write out everything pending (to the spool if need be) and the
        open rollup buckets."""
        # Not cancelled: a flush in progress finishes, so no swapped-out rows are lost.
        self._closing = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            await task
        self._next_retry = 0.0  # one last attempt at the database, whatever the backoff says
        await self.flush()
        async with self._lock:
            if self._stats.database_up:
                try:
                    await _in_thread(self._close_buckets)
                except Exception as exc:
                    log.warning(
                        "open rollup buckets not written (%s); the next start recomputes them",
                        exc,
                    )
        self.spool.close()

    async def __aenter__(self) -> SampleWriter:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.flush_interval)
            self._wake.clear()
            await self.flush()

    # --- back-pressure -------------------------------------------------------------------------

    def _spill_pending(self) -> None:
        """Hand the pending batches to a thread that writes them to the spool."""
        batches, self._pending, self._pending_rows = self._pending, [], 0
        backlog = self._backlog
        since, backlog.pending_since = backlog.pending_since, None
        self._spill = asyncio.get_running_loop().create_task(
            self._spill_to_spool(batches, since), name="writer spill"
        )

    async def _spill_to_spool(self, batches: list[Batch], since: float | None) -> None:
        try:
            columns = await _in_thread(self._columns, batches)
            if self._backlog.spool_since is None:
                self._backlog.spool_since = since
            if await self._to_spool(columns):
                self._stats.overflowed += len(columns)
                self._fell_behind(f"{len(columns)} rows moved to the spool")
            else:
                self._fell_behind(f"the spool is full: {len(columns)} rows dropped")
        finally:
            self._spill = None

    def _drop_overflow(self, rows: int) -> None:
        self._stats.dropped += rows
        self._fell_behind(f"memory full while the spool was being written: {rows} rows dropped")

    def _fell_behind(self, what: str) -> None:
        self._backlog.fell_behind(self.stats, what, self.spool.rows)

    def _check_behind(self) -> None:
        self._backlog.check(
            self.stats, self.spool.rows, caught_up=not self.spool.batches and self._spill is None
        )

    # --- writing -------------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write what is pending now; returns when it is in the database or the spool."""
        async with self._lock:
            spill = self._spill
            if spill is not None:  # rows spilled before these go to the spool first
                await asyncio.shield(spill)
            batches, self._pending, self._pending_rows = self._pending, [], 0
            backlog = self._backlog
            backlog.flushing_since, backlog.pending_since = backlog.pending_since, None
            loop = asyncio.get_running_loop()
            started = loop.time()
            try:
                columns = await _in_thread(self._columns, batches)
                if self.spool.batches or not self._may_try_database(loop.time()):
                    if columns and backlog.spool_since is None:
                        backlog.spool_since = backlog.flushing_since
                    await self._to_spool(columns)
                    await self._replay(loop.time())
                elif columns:
                    try:
                        stored = await _in_thread(self._store, columns)
                    except Exception as exc:
                        self._failed(exc, loop.time())
                        if backlog.spool_since is None:
                            backlog.spool_since = backlog.flushing_since
                        await self._to_spool(columns)
                    else:
                        self._succeeded(stored)
            finally:
                backlog.flushing_since = None
            await self._write_events()
            self._stats.flushes += 1
            self._stats.last_flush_seconds = loop.time() - started
            self._update_spool_stats()
            self._check_behind()

    def _columns(self, batches: list[Batch]) -> SampleColumns:
        """The batches as one set of columns keyed by tag id (rows of unknown tags counted
        and left out)."""
        if not batches:
            return SampleColumns.empty()
        batch = Batch.concat(batches)
        count = len(self.tag_ids)
        tags = batch.tags
        known = (tags >= 0) & (tags < count)
        if not known.all():
            self._stats.unknown_tag += int((~known).sum())
            batch = batch.select(known)
        if batch.texts:
            texts = tuple(text for text in batch.texts if 0 <= text.tag < count)
            self._stats.unknown_tag += len(batch.texts) - len(texts)
            batch = batch.with_texts(texts)
        return SampleColumns.of_batch(batch, self.tag_ids)

    def _may_try_database(self, now: float) -> bool:
        return self._stats.database_up or now >= self._next_retry

    async def _to_spool(self, columns: SampleColumns) -> bool:
        if not len(columns):
            return True
        if await _in_thread(self.spool.append_columns, columns):
            self._stats.spooled += len(columns)
            return True
        self._stats.dropped += len(columns)
        return False

    async def _replay(self, now: float) -> None:
        """Write spooled batches to the database, oldest first, while it accepts them."""
        if not self._may_try_database(now):
            return
        while (oldest := await _in_thread(self.spool.oldest_columns)) is not None:
            seq, columns = oldest
            try:
                stored = await _in_thread(self._store, columns)
            except Exception as exc:
                self._failed(exc, asyncio.get_running_loop().time())
                return
            await _in_thread(self.spool.remove, seq)
            self._stats.replayed += len(columns)
            self._succeeded(stored)
            self._update_spool_stats()
        if self._spill is None and not self.spool.batches:
            self._backlog.spool_since = None
        if self._stats.replayed and self._spilling:
            self._spilling = False
            log.info("spool replayed: the database is up to date")
            self._announce(
                Event(utc_now(), EventKind.SPOOL_REPLAYED, "storage",
                      f"database back; {self._stats.replayed} spooled samples written so far")
            )  # fmt: skip

    def _store(self, columns: SampleColumns) -> int:
        """Insert `columns` with their rollups (worker thread); returns the rows inserted."""
        started = time.perf_counter()
        self.buckets.register(self.engine)
        inserted = self.store.insert(columns, then=self.buckets.after_insert)
        self.buckets.committed()
        self._stats.rollups_recomputed = self.buckets.recomputed
        self._stats.write_seconds.observe(time.perf_counter() - started)
        return len(inserted)

    def _close_buckets(self) -> None:
        with self.engine.begin() as connection:
            self.buckets.close(connection)
        self.buckets.closed()

    def _succeeded(self, stored: int) -> None:
        self._stats.stored += stored
        if not self._stats.database_up:
            log.warning("database writes work again")
        self._stats.database_up = True

    def _failed(self, exc: Exception, now: float) -> None:
        stats = self._stats
        kind = type(exc).__name__
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else kind
        stats.failures += 1
        stats.errors_by_kind[kind] = stats.errors_by_kind.get(kind, 0) + 1
        stats.last_error = f"{kind}: {message}"
        if stats.database_up:
            self._spilling = True
            self._announce(
                Event(utc_now(), EventKind.SPOOL_SPILLED, "storage",
                      f"database write failed ({stats.last_error}); buffering to the spool")
            )  # fmt: skip
            log.error(
                "database write failed (%s); buffering samples in %s and retrying every %g s",
                stats.last_error,
                self.spool.path,
                self.retry_interval,
            )
        stats.database_up = False
        self._next_retry = now + self.retry_interval

    async def _write_events(self) -> None:
        if not self._events or not self._stats.database_up:
            return
        batch = list(self._events)
        rows = [event_row(event, self.station_id) for event in batch]
        try:
            await _in_thread(self._insert_events, rows)
        except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
            # Not an outage: these events can never be stored; retrying would block the rest.
            log.error("%d event(s) not journaled: %s", len(batch), exc)
        except Exception as exc:  # kept in memory and retried with the next flush
            self._failed(exc, asyncio.get_running_loop().time())
            return
        for _ in batch:
            self._events.popleft()
        self._stats.events_stored += len(batch)
        self._stats.events_pending = len(self._events)

    def _insert_events(self, rows: list[dict[str, Any]]) -> None:
        with self.engine.begin() as connection:
            insert_events(connection, rows)

    def _update_spool_stats(self) -> None:
        self._stats.spool_bytes = self.spool.size_bytes
        self._stats.spool_fill = self.spool.fill_ratio


async def _in_thread(function: Callable[..., _T], *args: object) -> _T:
    """Run `function` in a worker thread; if the caller is cancelled meanwhile, wait for the
    thread to finish first, so a write under way is never abandoned with its outcome unknown."""
    future = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise
