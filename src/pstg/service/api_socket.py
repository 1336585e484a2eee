"""The API's listening socket, opened before anything else starts.

The listening socket is opened before anything else starts, so a taken port is a clear,
immediate failure ("127.0.0.1:8000 is in use") instead of uvicorn logging `[Errno 98]` and the
service polling on without an API while its supervisor thinks all is well.
"""

from __future__ import annotations

import errno
import socket

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
