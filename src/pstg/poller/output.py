"""Where the poll loops deliver: bounded queues that later stages (writer, alarms) consume.

The poll loops never wait on a consumer. If a consumer falls so far behind that a queue fills,
the batch is counted and logged as dropped rather than stalling every device's schedule.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from pstg.model import Event, Sample

log = logging.getLogger(__name__)

DEFAULT_QUEUE_BATCHES = 10_000


class PollOutput:
    def __init__(self, maxsize: int = DEFAULT_QUEUE_BATCHES) -> None:
        self.samples: asyncio.Queue[Sequence[Sample]] = asyncio.Queue(maxsize)
        self.events: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped_batches = 0
        self.dropped_events = 0

    def emit_samples(self, batch: Sequence[Sample]) -> None:
        if not batch:
            return
        try:
            self.samples.put_nowait(batch)
        except asyncio.QueueFull:
            self.dropped_batches += 1
            if self.dropped_batches == 1 or self.dropped_batches % 1000 == 0:
                log.error(
                    "sample queue full (%d batches): consumer is not keeping up, "
                    "%d batches dropped so far",
                    self.samples.maxsize,
                    self.dropped_batches,
                )

    def emit_event(self, event: Event) -> None:
        try:
            self.events.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped_events += 1
            log.error("event queue full: dropped %s for %s", event.kind, event.source)
