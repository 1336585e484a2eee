"""The pipeline: sources -> processors -> sinks, wired, drained and stopped in one place.

    poll loops (in-process, or worker processes)  --emit_batch / emit_event-->
        Pipeline
          processors: report by exception (the rows worth storing)
          sinks, in registry order: each gets every reading or only the changes (its `feed`)

The poll loops call `emit_batch` once per device cycle and never wait: every stage behind it
only updates memory or queues. Cycles are gathered for a few milliseconds (COALESCE_DELAY, or
until COALESCE_ROWS) into one large batch, which costs the stages a fraction of what many small
ones would (see pstg.batch.Coalescer); an event first lets the gathered batches through,
so batches and events keep their order.

A sink that raises is logged (first time loudly, then quietly) and counted; the others still
get the batch, and polling goes on. Events — a device lost, the spool in use, an alarm — fan
out to every sink the same way, whoever reported them.

Stop order (see `close`): the sources stop first (the caller's job), then `end_of_data` marks
every tag as no longer read, then the sinks close in reverse order of start, each flushing
what it holds — storage last, so it journals what the others reported while closing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from pstg.batch import Batch, Coalescer
from pstg.config.tag_table import TagTable
from pstg.model import Event, QualityReason
from pstg.processing.markers import not_read
from pstg.processing.report_by_exception import ReportByException
from pstg.sinks.base import Feed, Sink

log = logging.getLogger("pstg.pipeline")

_QUIET_AFTER = 60.0  # seconds: a sink that keeps failing is logged at most this often
COALESCE_DELAY = 0.02  # seconds a device cycle may wait to join others
COALESCE_ROWS = 20_000  # rows after which the gathered cycles go through at once


@dataclass
class PipelineStats:
    batches: int = 0
    readings: int = 0
    changes: int = 0
    events: int = 0
    sink_errors: Counter[str] = field(default_factory=Counter)


class Pipeline:
    """See the module docstring. Implements pstg.poller.output.PollOutput."""

    def __init__(self, tags: TagTable, sinks: Sequence[Sink], *, report: ReportByException) -> None:
        self.tags = tags
        self.sinks = list(sinks)
        self.report = report
        self.stats = PipelineStats()
        self._wants_changes = any(sink.feed is Feed.CHANGES for sink in self.sinks)
        self._open: list[Sink] = []
        self._last_error_log: dict[str, float] = {}
        self._coalescer = Coalescer(len(tags))
        self._timer: asyncio.TimerHandle | None = None

    def sink(self, name: str) -> Sink | None:
        return next((sink for sink in self.sinks if sink.name == name), None)

    async def start(self) -> None:
        for sink in self.sinks:
            await sink.start()
            self._open.append(sink)

    # --- the sources' side (PollOutput) ---------------------------------------------------

    def emit_batch(self, batch: Batch) -> None:
        """One device cycle's readings (each tag at most once); they reach the sinks within
        COALESCE_DELAY, together with the other cycles of that time."""
        coalescer = self._coalescer
        coalescer.add(batch)
        if coalescer.rows >= COALESCE_ROWS:
            self.flush_pending()
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop (a tool, a test): straight through
                self.flush_pending()
            else:
                self._timer = loop.call_later(COALESCE_DELAY, self.flush_pending)

    def flush_pending(self) -> None:
        """Let the gathered cycles through now."""
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        for batch in self._coalescer.take():
            self._process(batch)

    def emit_marker(self, batch: Batch) -> None:
        """A batch made by the gateway itself (a stop or gap marker), after what is gathered."""
        self.flush_pending()
        self._process(batch)

    def _process(self, batch: Batch) -> None:
        stats = self.stats
        stats.batches += 1
        stats.readings += len(batch)
        changes = self.report.changes(batch) if self._wants_changes else None
        if changes is not None:
            stats.changes += len(changes)
        for sink in self._open:
            if sink.feed is Feed.READINGS:
                self._deliver(sink, batch)
            elif changes is not None and len(changes):
                self._deliver(sink, changes)

    def emit_event(self, event: Event) -> None:
        self.flush_pending()
        self.stats.events += 1
        for sink in self._open:
            try:
                sink.submit_events((event,))
            except Exception as exc:
                self._failed(sink, exc)

    def end_of_data(self, reason: QualityReason = QualityReason.STOPPED) -> None:
        """Every tag bad for `reason` from now on: the marker that ends its line in a trend
        when the gateway stops, instead of a last value carried across the outage."""
        self.emit_marker(not_read(self.tags, reason, time.time_ns() // 1000))

    # --- draining and stopping ------------------------------------------------------------

    async def flush(self) -> None:
        self.flush_pending()
        for sink in list(self._open):
            await sink.flush()

    async def close(self) -> None:
        """Close the sinks in reverse order of start; each flushes what it holds."""
        self.flush_pending()
        while self._open:
            sink = self._open[-1]
            try:
                await sink.close()
            except Exception:
                log.exception("sink %s failed while closing", sink.name)
            self._open.pop()

    def _deliver(self, sink: Sink, batch: Batch) -> None:
        try:
            sink.submit(batch)
        except Exception as exc:
            self._failed(sink, exc)

    def _failed(self, sink: Sink, exc: Exception) -> None:
        self.stats.sink_errors[sink.name] += 1
        now = time.monotonic()
        last = self._last_error_log.get(sink.name)
        if last is None or now - last >= _QUIET_AFTER:
            self._last_error_log[sink.name] = now
            log.error(
                "sink %s failed (%d time(s) so far): %s",
                sink.name,
                self.stats.sink_errors[sink.name],
                exc,
                exc_info=exc if last is None else None,
            )
