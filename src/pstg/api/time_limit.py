"""A time limit on every read: `GET` and `HEAD` requests answer 503 when they work longer
than `api.request_timeout`.

The gateway's event loop also polls the devices, so the API keeps heavy work off it: the
routers that query are plain `def`s, which FastAPI runs in its worker threads, and none holds
the loop. This middleware bounds how long a client waits and how long the work goes on:

- the request runs as a task of its own; when it has not started its answer by the deadline,
  the client gets 503 `{"detail": "... took longer than 30 s ..."}` at once, and whatever the
  task still sends is dropped;
- the task keeps the deadline (`pstg.storage.deadline`): a SQLite statement still running is
  interrupted, and the worker thread comes free.

Changes (POST, PATCH, DELETE ...) are not cut short: they are small, and a 503 for a change
that then completes would mislead the client.
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pstg.storage.deadline import Deadline, current

log = logging.getLogger("pstg.api")

LIMITED_METHODS = frozenset({"GET", "HEAD"})


class TimeLimit:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self._abandoned: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in LIMITED_METHODS:
            await self.app(scope, receive, send)
            return
        deadline = Deadline(time.monotonic() + self.seconds)
        started = False
        abandoned = False

        async def send_unless_abandoned(message: Message) -> None:
            nonlocal started
            if abandoned:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def run() -> None:
            current.set(deadline)  # in this task's context (and its worker threads') only
            try:
                await self.app(scope, receive, send_unless_abandoned)
            finally:
                deadline.at = None  # tasks the request started keep no deadline of its

        task = asyncio.create_task(run(), name=f"request {scope['method']} {scope['path']}")
        try:
            done, _ = await asyncio.wait({task}, timeout=self.seconds)
        except BaseException:
            task.cancel()
            raise
        if done or started:
            await task  # finished, or answering already (a stream): let it end
            return
        abandoned = True
        self._abandon(task)
        log.warning(
            "%s %s: no answer within %g s (api.request_timeout): answered 503",
            scope["method"], scope["path"], self.seconds,
        )  # fmt: skip
        answer = JSONResponse(
            {
                "detail": f"the request took longer than {self.seconds:g} s "
                "(api.request_timeout): ask for less, e.g. a shorter range"
            },
            status_code=503,
            headers={"Retry-After": "30"},
        )
        if scope["method"] == "HEAD":
            answer.body = b""  # the headers as for GET, no body
        await answer(scope, receive, send)

    def _abandon(self, task: asyncio.Task[None]) -> None:
        """Let the task end on its own (a worker thread cannot be stopped; its SQLite statement
        is interrupted), its answer dropped."""
        self._abandoned.add(task)

        def forget(finished: asyncio.Task[None]) -> None:
            self._abandoned.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.debug("abandoned request ended with %r", finished.exception())

        task.add_done_callback(forget)
