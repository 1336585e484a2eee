"""Where the poll loops deliver: anything with `emit_batch` and `emit_event`.

The poll loops call their output synchronously after each cycle and never wait on it: in the
gateway the output is the pipeline (pstg.pipeline), whose stages only queue or update memory;
in a worker process it is the channel to the main process; in tests and tools a
`CollectingOutput`.
"""

from __future__ import annotations

from typing import Protocol

from pstg.batch import Batch
from pstg.model import Event


class PollOutput(Protocol):
    """The receiving end of the poll loops."""

    def emit_batch(self, batch: Batch) -> None:
        """One device's poll cycle: a row per tag (bad rows for the blocks that failed)."""

    def emit_event(self, event: Event) -> None:
        """A device connected, disconnected ..."""


class CollectingOutput:
    """Keeps everything in lists, for tests, benchmarks and one-shot tools."""

    def __init__(self) -> None:
        self.batches: list[Batch] = []
        self.events: list[Event] = []

    def emit_batch(self, batch: Batch) -> None:
        self.batches.append(batch)

    def emit_event(self, event: Event) -> None:
        self.events.append(event)

    def take(self) -> tuple[list[Batch], list[Event]]:
        """What arrived since the last call."""
        batches, self.batches = self.batches, []
        events, self.events = self.events, []
        return batches, events
