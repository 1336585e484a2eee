"""The API's HTTP server (uvicorn), inside the gateway's event loop, on the socket
`pstg.service.api_socket.listen` opened."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from pstg.api.app import close_streams, release_app
from pstg.service.api_socket import ApiPortUnavailable

SHUTDOWN_GRACE = 5
"""Seconds the server waits at stop for requests in flight (reads end by themselves within
`api.request_timeout`; a stop should not wait that long)."""


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside our process: the gateway owns SIGINT/SIGTERM, not uvicorn."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ApiServer:
    """Serves `app` on an already listening socket until `stop()`."""

    def __init__(self, app: FastAPI, sock: socket.socket) -> None:
        self._app = app
        self._sock = sock
        self._server = _EmbeddedServer(
            uvicorn.Config(
                app,
                log_level="warning",
                # httptools parses HTTP in C: h11, in pure Python, was a fifth of the CPU of
                # a request answered from memory (docs/performance.md).
                http="httptools",
                lifespan="off",
                access_log=False,
                server_header=False,  # no `server: uvicorn` banner
                # X-Forwarded-For is believed only from api.trusted_proxies, by the app
                # (pstg.api.hygiene); uvicorn's own default trusts anyone on 127.0.0.1.
                proxy_headers=False,
                # At stop, requests still answering after this are cancelled: a client that
                # reads nothing must not hold the gateway's stop.
                timeout_graceful_shutdown=SHUTDOWN_GRACE,
            )
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]), name="api")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise ApiPortUnavailable("the API server stopped while starting")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        await close_streams(self._app)  # uvicorn would wait for them forever
        self._server.should_exit = True
        task, self._task = self._task, None
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        release_app(self._app)
        # A connection whose client stopped reading is never closed by uvicorn: closing
        # waits for its unsent bytes. Drop those.
        for connection in list(self._server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        self._sock.close()
