"""The API's HTTP server, inside the gateway's event loop.

The listening socket is opened before anything else starts, so a taken port is a clear,
immediate failure ("127.0.0.1:8000 is in use") instead of uvicorn logging `[Errno 98]` and the
service polling on without an API while its supervisor thinks all is well.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from pstg.errors import Unavailable


class ApiPortUnavailable(Unavailable):
    """The API's address cannot be listened on."""


def listen(host: str, port: int, *, where: str = "api.port in station.yaml") -> socket.socket:
    """A listening socket on host:port; ApiPortUnavailable saying why and which setting."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ApiPortUnavailable(
            f"cannot listen on {host}:{port}: {exc.strerror} ({where})"
        ) from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        # As uvicorn does: a restart may reuse the port while old connections linger.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ApiPortUnavailable(f"{host}:{port} is in use ({where})") from exc
        raise ApiPortUnavailable(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} ({where})"
        ) from exc
    sock.setblocking(False)
    return sock


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside our process: the gateway owns SIGINT/SIGTERM, not uvicorn."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ApiServer:
    """Serves `app` on an already listening socket until `stop()`."""

    def __init__(self, app: FastAPI, sock: socket.socket) -> None:
        self._sock = sock
        self._server = _EmbeddedServer(
            uvicorn.Config(
                app,
                log_level="warning",
                lifespan="off",
                access_log=False,
                server_header=False,  # no `server: uvicorn` banner
                # X-Forwarded-For is believed only from api.trusted_proxies, by the app
                # (pstg.api.hygiene); uvicorn's own default trusts anyone on 127.0.0.1.
                proxy_headers=False,
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
        self._server.should_exit = True
        task, self._task = self._task, None
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        self._sock.close()
