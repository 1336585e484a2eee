"""How many logins the API works on at once: at most `PARALLEL` in the service (each costs an
argon2 hash of 64 MiB), at most `WAITING` more waiting for their turn (on the event loop, not
in a worker thread), each for at most `WAIT_S`; beyond that, 503 with Retry-After at once.
A flood of logins so costs bounded memory and at most `PARALLEL` worker threads, and the
event loop (which polls the devices) keeps its schedule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException

PARALLEL = 2
WAITING = 64
WAIT_S = 10.0
BUSY = "too many logins at once: try again in a moment"


class LoginGate:
    def __init__(self, parallel: int = PARALLEL, waiting: int = WAITING) -> None:
        self.parallel = parallel
        self.waiting = waiting
        self._slots = asyncio.Semaphore(parallel)
        self._queued = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the slots; HTTPException(503) when too many wait or the wait is long."""
        if self._queued >= self.waiting:
            raise HTTPException(503, BUSY, headers={"Retry-After": "1"})
        self._queued += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), WAIT_S)
        except TimeoutError:
            raise HTTPException(503, BUSY, headers={"Retry-After": "1"}) from None
        finally:
            self._queued -= 1
        try:
            yield
        finally:
            self._slots.release()


def login_gate(app: FastAPI) -> LoginGate:
    """The app's gate, made at first use (in the app's event loop)."""
    gate = getattr(app.state, "login_gate", None)
    if gate is None:
        gate = app.state.login_gate = LoginGate()
    assert isinstance(gate, LoginGate)
    return gate
