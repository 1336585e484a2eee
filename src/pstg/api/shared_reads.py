"""Identical reads in flight at the same time run once: the first computes, the ones that ask
for the same thing meanwhile wait for its answer ("single flight").

A 30-day trend costs the database tens of milliseconds of CPU whoever asks; when a console on
several screens (or a dashboard wall) asks for the same trend at the same moment, the same
aggregation ran once per screen, each slowing the others and the poller. Nothing is kept
after the first answer is given: a read that starts later reads the database again, so no
answer is older than one computed for its own request would be.

The functions run in worker threads (the routers that query are plain `def`s).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


class SharedReads:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[Hashable, Future[object]] = {}
        self.shared = 0
        """Reads answered with another one's result (for tests and curiosity)."""

    def run(self, key: Hashable, read: Callable[[], T]) -> T:
        """`read()`, or the result (or error) of the `read` for `key` already running."""
        with self._lock:
            running = self._running.get(key)
            if running is None:
                mine: Future[object] = Future()
                self._running[key] = mine
            else:
                self.shared += 1
        if running is not None:
            return running.result()  # type: ignore[return-value]  # the same key, the same T
        try:
            result = read()
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        else:
            mine.set_result(result)
            return result
        finally:
            with self._lock:
                del self._running[key]
