"""Identical reads in flight at the same time run once: the first computes, the ones that ask
for the same thing meanwhile wait for its answer ("single flight").

A 30-day trend costs the database tens of milliseconds of CPU whoever asks; when a console on
several screens (or a dashboard wall) asks for the same trend at the same moment, the same
aggregation ran once per screen, each slowing the others and the poller. Nothing is kept
after the first answer is given: a read that starts later reads the database again, so no
answer is older than one computed for its own request would be.

The waiting is done on the event loop, not in a worker thread: the read runs in one of the
few query threads (`pstg.api.query_threads`), and whoever joins it waits without taking one.
(Joining inside the threads let only as many requests share a read as there were threads:
four, of sixteen screens.) The read is a task of its own, so a first requester that goes
away (a closed browser tab, its time limit) does not take the answer from the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from pstg.api.query_threads import run_query

T = TypeVar("T")


class SharedReads:
    """Single flight per event loop (the app's); call `run` from that loop only."""

    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Task[Any]] = {}
        self.shared = 0
        """Reads answered with another one's result (for tests and curiosity)."""

    async def run(self, key: Hashable, read: Callable[[], T]) -> T:
        """`read()` in a query thread, or the result (or error) of the read for `key` that is
        already running."""
        running = self._running.get(key)
        if running is None:
            running = asyncio.create_task(run_query(read), name=f"shared read {key!r}"[:200])
            self._running[key] = running
            running.add_done_callback(lambda _done: self._forget(key, running))
        else:
            self.shared += 1
        result: T = await asyncio.shield(running)
        return result

    def _forget(self, key: Hashable, done: asyncio.Task[Any]) -> None:
        if self._running.get(key) is done:
            del self._running[key]
        if not done.cancelled():
            done.exception()  # retrieved: every requester may have gone away
