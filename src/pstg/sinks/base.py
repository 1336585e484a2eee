"""The contract of a sink: what the pipeline calls, and when."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Protocol

from pstg.batch import Batch
from pstg.model import Event


class Feed(StrEnum):
    """Which rows a sink is given."""

    READINGS = "readings"  # every reading polled (the live view, alarms)
    CHANGES = "changes"  # what report by exception keeps (storage; later MQTT)


EmitEvent = Callable[[Event], None]
"""How a sink reports something worth journaling or logging: through the pipeline, which hands
it to every sink (storage journals it, the log logs it), never straight into one of them."""


class Sink(Protocol):
    """One output of the pipeline.

    `submit` and `submit_events` are called in the event loop for every batch and must not
    block: a sink with I/O queues and writes in its own task or thread, with bounded memory.
    `flush` returns when what was submitted so far is as durable as the sink makes it; `close`
    flushes and releases everything. The pipeline starts sinks in registry order and closes
    them in reverse.
    """

    @property
    def name(self) -> str: ...

    @property
    def feed(self) -> Feed: ...

    async def start(self) -> None: ...

    def submit(self, batch: Batch) -> None: ...

    def submit_events(self, events: Sequence[Event]) -> None: ...

    async def flush(self) -> None: ...

    async def close(self) -> None: ...
