"""A few worker threads for the API's heavy reads, so that many clients at once cannot
starve the event loop the poller shares.

Starlette runs a plain `def` route in a pool of 40 threads. A trend is mostly database work
(which releases the GIL) but also milliseconds of Python around it (the buckets, pydantic);
16 such threads at once each want the GIL, and the event loop's thread waits its turn behind
them (bench/api.py: the poll stand-in's ticks came up to hundreds of milliseconds late). At
most `QUERY_THREADS` run at once here; the others wait in the loop, costing nothing.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar

import anyio
from anyio import to_thread

T = TypeVar("T")

QUERY_THREADS = 4
"""Heavy reads at once: enough to keep two cores and the database busy."""

_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


async def run_query(read: Callable[[], T]) -> T:
    """`read()` in a worker thread, at most `QUERY_THREADS` at once (per event loop);
    context variables (the request's deadline) go along."""
    return await to_thread.run_sync(read, limiter=_limiter())


def _limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(QUERY_THREADS)
    return limiter
