"""The writer: samples from the poller into the database, off the polling path, losing nothing.

- `submit()` is synchronous and cheap (report-by-exception filter, conversion to rows): the poll
  loops never wait for the database.
- A flusher task writes the pending rows every `flush_interval` seconds, or sooner when
  `batch_size` rows are pending, in a worker thread (`asyncio.to_thread`), one batch at a time,
  so batches reach the database in the order they were read.
- When a write fails (the database is down, restarting or locked) the batch goes to the on-disk
  spool, and so does every later batch until the spool has been replayed, oldest first; inserts
  are idempotent, so a batch whose commit did arrive before the failure is not stored twice.
- `close()` flushes everything (to the database, or to the spool if it is still down). A hard
  kill loses at most the rows of the current flush interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.histogram import Histogram
from pstg.model import Event, EventKind, Sample, utc_now
from pstg.storage.exception import ReportByException
from pstg.storage.rows import QUALITY_CODES, REASON_CODES, StoredRow, to_micros, to_row
from pstg.storage.schema import events as events_table
from pstg.storage.spool import Spool
from pstg.storage.store import SampleStore

log = logging.getLogger("pstg.storage")

MAX_PENDING_EVENTS = 10_000

_T = TypeVar("_T")


@dataclass
class WriterStats:
    received: int = 0
    """Samples submitted by the poller."""
    suppressed: int = 0
    """Samples not stored by report by exception (unchanged within deadband and heartbeat)."""
    unknown_tag: int = 0
    stored: int = 0
    """Rows inserted into the database (directly or from the spool)."""
    spooled: int = 0
    replayed: int = 0
    dropped: int = 0
    """Rows lost because the spool was full."""
    flushes: int = 0
    failures: int = 0
    database_up: bool = True
    last_error: str | None = None
    last_flush_seconds: float | None = None
    write_seconds: Histogram = field(default_factory=Histogram)
    """Duration of each successful database write (one batch, with its rollups)."""
    pending: int = 0
    events_stored: int = 0
    events_pending: int = 0
    spool_bytes: int = 0
    spool_fill: float = 0.0
    errors_by_kind: dict[str, int] = field(default_factory=dict)


class SampleWriter:
    """See the module docstring. Use `async with writer:` or start()/close()."""

    def __init__(
        self,
        engine: Engine,
        *,
        station_id: int,
        tag_ids: Mapping[str, int],
        report: ReportByException,
        spool: Spool,
        flush_interval: float = 1.0,
        batch_size: int = 5000,
        retry_interval: float = 2.0,
    ) -> None:
        self.store = SampleStore(engine)
        self.engine = engine
        self.station_id = station_id
        self.tag_ids = dict(tag_ids)
        self.report = report
        self.spool = spool
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.retry_interval = retry_interval
        self.stats = WriterStats()
        self._pending: list[StoredRow] = []
        self._events: deque[Event] = deque(maxlen=MAX_PENDING_EVENTS)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._next_retry = 0.0
        self._closing = False
        self._spilling = False
        self._update_spool_stats()

    # --- the poller's side -----------------------------------------------------------------

    def submit(self, samples: Iterable[Sample]) -> None:
        """Queue samples for storage (filtered by report by exception). Never blocks."""
        # The hot path of every polled sample: locals, no per-sample attribute writes, and
        # the timestamp converted once per run of equal times (a poll batch shares one).
        admit = self.report.admit
        tag_ids = self.tag_ids
        append = self._pending.append
        received = suppressed = unknown = 0
        last_ts: datetime | None = None
        micros = 0
        for sample in samples:
            received += 1
            tag_id = tag_ids.get(sample.tag)
            if tag_id is None:
                unknown += 1
                continue
            if not admit(sample):
                suppressed += 1
                continue
            ts = sample.ts
            if ts != last_ts:
                last_ts, micros = ts, to_micros(ts)
            value = sample.value
            if value is None or value.__class__ is float:
                append(StoredRow(tag_id, micros, value, None, QUALITY_CODES[sample.quality],
                                 REASON_CODES[sample.reason]))  # fmt: skip
            else:
                append(to_row(sample, tag_id))
        stats = self.stats
        stats.received += received
        stats.suppressed += suppressed
        stats.unknown_tag += unknown
        pending = self._pending
        stats.pending = len(pending)
        if len(pending) >= self.batch_size:
            self._wake.set()

    def submit_event(self, event: Event) -> None:
        self._events.append(event)
        self.stats.events_pending = len(self._events)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="sample writer")

    async def close(self) -> None:
        """Stop the flusher and write out everything pending (to the spool if need be)."""
        # Not cancelled: a flush in progress finishes, so no swapped-out rows are lost.
        self._closing = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            await task
        self._next_retry = 0.0  # one last attempt at the database, whatever the backoff says
        await self.flush()
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

    # --- writing -------------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write what is pending now; returns when it is in the database or the spool."""
        async with self._lock:
            rows, self._pending = self._pending, []
            self.stats.pending = 0
            loop = asyncio.get_running_loop()
            started = loop.time()
            if self.spool.batches or not self._may_try_database(loop.time()):
                await self._to_spool(rows)
                await self._replay(loop.time())
            elif rows:
                try:
                    stored = await _in_thread(self._store_unique, rows)
                except Exception as exc:
                    self._failed(exc, loop.time())
                    await self._to_spool(rows)
                else:
                    self._succeeded(stored)
            await self._write_events()
            self.stats.flushes += 1
            self.stats.last_flush_seconds = loop.time() - started
            self._update_spool_stats()

    def _may_try_database(self, now: float) -> bool:
        return self.stats.database_up or now >= self._next_retry

    async def _to_spool(self, rows: list[StoredRow]) -> None:
        if not rows:
            return
        if await _in_thread(self.spool.append, rows):
            self.stats.spooled += len(rows)
        else:
            self.stats.dropped += len(rows)

    async def _replay(self, now: float) -> None:
        """Write spooled batches to the database, oldest first, while it accepts them."""
        if not self._may_try_database(now):
            return
        while (oldest := await _in_thread(self.spool.oldest)) is not None:
            seq, rows = oldest
            try:
                stored = await _in_thread(self._store_unique, rows)
            except Exception as exc:
                self._failed(exc, asyncio.get_running_loop().time())
                return
            await _in_thread(self.spool.remove, seq)
            self.stats.replayed += len(rows)
            self._succeeded(stored)
        if self.stats.replayed and self._spilling:
            self._spilling = False
            log.info("spool replayed: the database is up to date")
            self.submit_event(
                Event(utc_now(), EventKind.SPOOL_REPLAYED, "storage",
                      f"database back; {self.stats.replayed} spooled samples written so far")
            )  # fmt: skip

    def _store_unique(self, rows: list[StoredRow]) -> int:
        # Report by exception admits each (tag, time) once, so batches hold no duplicates.
        started = time.perf_counter()
        stored = self.store.write(rows, unique=True)
        self.stats.write_seconds.observe(time.perf_counter() - started)
        return stored

    def _succeeded(self, stored: int) -> None:
        self.stats.stored += stored
        if not self.stats.database_up:
            log.warning("database writes work again")
        self.stats.database_up = True

    def _failed(self, exc: Exception, now: float) -> None:
        kind = type(exc).__name__
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else kind
        self.stats.failures += 1
        self.stats.errors_by_kind[kind] = self.stats.errors_by_kind.get(kind, 0) + 1
        self.stats.last_error = f"{kind}: {message}"
        if self.stats.database_up:
            self._spilling = True
            self.submit_event(
                Event(utc_now(), EventKind.SPOOL_SPILLED, "storage",
                      f"database write failed ({self.stats.last_error}); buffering to the spool")
            )  # fmt: skip
            log.error(
                "database write failed (%s); buffering samples in %s and retrying every %g s",
                self.stats.last_error,
                self.spool.path,
                self.retry_interval,
            )
        self.stats.database_up = False
        self._next_retry = now + self.retry_interval

    async def _write_events(self) -> None:
        if not self._events or not self.stats.database_up:
            return
        batch = list(self._events)
        rows: list[dict[str, object]] = [
            {
                "ts": to_micros(event.ts),
                "station_id": self.station_id,
                "kind": event.kind.value,
                "source": event.source,
                "message": event.message,
                "attributes": dict(event.attributes or {}),
            }
            for event in batch
        ]
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
        self.stats.events_stored += len(batch)
        self.stats.events_pending = len(self._events)

    def _insert_events(self, rows: list[dict[str, object]]) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.insert(events_table), rows)

    def _update_spool_stats(self) -> None:
        self.stats.spool_bytes = self.spool.size_bytes
        self.stats.spool_fill = self.spool.fill_ratio


async def _in_thread(function: Callable[..., _T], *args: object) -> _T:
    """Run `function` in a worker thread; if the caller is cancelled meanwhile, wait for the
    thread to finish first, so a write under way is never abandoned with its outcome unknown."""
    future = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise
