"""A deadline for the database work done on behalf of one request.

The API sets it (`pstg.api.time_limit`) for the request's task, and so for the worker threads
that task hands queries to (they run in a copy of its context). A SQLite statement still
running past the deadline is interrupted (`sqlite3.OperationalError: interrupted`), so a
request the API has already answered with 503 stops costing CPU. PostgreSQL statements are
not interrupted: such a query ends on its own (the worker pool bounds how many run).

The deadline is a holder, not a bare time: when the request ends, the holder is cleared, so
a task the request happened to start keeps no deadline of the request's.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Deadline:
    at: float | None
    """time.monotonic() after which work is abandoned; None: no longer in force."""

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() > self.at


current: ContextVar[Deadline | None] = ContextVar("pstg_deadline", default=None)

PROGRESS_STEPS = 1_000_000
"""SQLite virtual-machine steps between two looks at the deadline (some milliseconds of work).
Each look takes the GIL back from the thread that holds it: often would slow every query."""


def interrupt_past_deadline() -> int:
    """SQLite's progress handler: non-zero stops the running statement."""
    deadline = current.get()
    return 1 if deadline is not None and deadline.passed() else 0
