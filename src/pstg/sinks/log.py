"""The log sink: what happened, in the log; readings only when asked (`--log-samples`).

Events are logged by kind: a device connecting is INFO, losing it a WARNING, an alarm
transition a WARNING when it raises an alarm and INFO otherwise, spool use a WARNING.
Readings are a debugging aid: one line each, for every reading polled.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pstg.batch import Batch
from pstg.config.tag_table import TagTable
from pstg.model import Event, EventKind, Sample
from pstg.sinks.base import Feed

events_log = logging.getLogger("pstg.events")
samples_log = logging.getLogger("pstg.samples")

_LEVELS = {
    EventKind.DEVICE_DISCONNECTED: logging.WARNING,
    EventKind.SPOOL_SPILLED: logging.WARNING,
    EventKind.LOGIN_FAILED: logging.WARNING,
}


class LogSink:
    name = "log"
    feed = Feed.READINGS

    def __init__(self, tags: TagTable, *, samples: bool = False) -> None:
        self.tags = tags
        self.samples = samples

    async def start(self) -> None:
        pass

    def submit(self, batch: Batch) -> None:
        if self.samples and samples_log.isEnabledFor(logging.INFO):
            for sample in batch.samples(self.tags.names):
                samples_log.info("%s", format_sample(sample))

    def submit_events(self, events: Sequence[Event]) -> None:
        for event in events:
            events_log.log(level_of(event), "%s %s: %s", event.kind.value, event.source,
                           event.message)  # fmt: skip

    async def flush(self) -> None:
        pass

    async def close(self) -> None:
        pass


def level_of(event: Event) -> int:
    if event.kind is EventKind.ALARM:
        # "normal -> unacknowledged (...)": an alarm raised is worth a warning.
        raised = "-> unacknowledged" in event.message
        return logging.WARNING if raised else logging.INFO
    return _LEVELS.get(event.kind, logging.INFO)


def format_sample(sample: Sample) -> str:
    value = "-" if sample.value is None else sample.value
    reason = f" ({sample.reason.value})" if sample.reason.value else ""
    ts = sample.ts.isoformat(timespec="milliseconds")
    return f"{ts} {sample.tag}={value} {sample.quality.value}{reason}"
