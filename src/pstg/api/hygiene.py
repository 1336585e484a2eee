"""HTTP hygiene around the whole API, as plain ASGI middleware (docs/security.md, "HTTP").

- `HostAllowList`: a request whose `Host` is not in `api.allowed_hosts` gets 400 before any
  route runs (a DNS-rebinding page in an operator's browser cannot reach the API by name).
- Forwarded headers: `X-Forwarded-For` / `X-Forwarded-Proto` are believed only from the
  addresses in `api.trusted_proxies` (uvicorn's ProxyHeadersMiddleware); from anyone else the
  client is the socket's peer, which is what the audit log's `source` names.
- `SecurityHeaders`: every response says `X-Content-Type-Options: nosniff`,
  `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer` and a Content-Security-Policy (none
  at all for JSON; for /docs its own assets only; for the web console's HTML pages scripts,
  styles and connections to this server only, no inline script or style), and API answers
  (tokens, users, live values) `Cache-Control: no-store` so no browser or proxy keeps them;
  the console's static files `no-cache` (kept, but checked again at each use).
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from pstg.config.models import ApiConfig

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
"""JSON needs nothing: no scripts, no frames, no forms."""
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
"""/docs: Swagger UI from this server only (it styles elements inline, draws data: images)."""
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; media-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
"""Any other HTML page (the web console): its files from this server, no inline script, no
inline style, no plug-ins, no framing; fetches and the live stream to this server only."""
DOCS_PREFIX = "/docs"
CACHEABLE_PREFIX = "/docs/assets/"
"""Swagger UI's files: the same for every user, cached by browsers."""
REVALIDATED_PREFIX = "/static/"
"""The web console's scripts and styles: kept by browsers, but checked again (ETag) at each
use, so an upgrade is seen at the next page load."""

_FIXED = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


def install_http_hygiene(app: FastAPI, api: ApiConfig) -> None:
    """Add the middleware, innermost first: forwarded headers, then the Host check, then the
    headers on every answer (the Host check's 400 too)."""
    if api.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(api.trusted_proxies))
    app.add_middleware(HostAllowList, allowed=api.hosts_allowed())
    app.add_middleware(SecurityHeaders)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        docs = path.startswith(DOCS_PREFIX)
        cache = (
            None if path.startswith(CACHEABLE_PREFIX)
            else "no-cache" if path.startswith(REVALIDATED_PREFIX)
            else "no-store"
        )  # fmt: skip

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _FIXED:
                    headers[name.decode()] = value.decode()
                if "content-security-policy" not in headers:
                    html = headers.get("content-type", "").startswith("text/html")
                    policy = DOCS_POLICY if docs else PAGE_POLICY if html else API_POLICY
                    headers["Content-Security-Policy"] = policy
                if cache is not None:
                    headers["Cache-Control"] = cache
                if "server" in headers:
                    del headers["server"]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HostAllowList:
    """400 unless the request's `Host` is one of `allowed` (names or addresses, `*`,
    `*.domain`); the port is not compared."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        patterns = [pattern.lower() for pattern in allowed]
        self.any = "*" in patterns
        self.exact = frozenset(pattern for pattern in patterns if not pattern.startswith("*"))
        self.suffixes = tuple(pattern[1:] for pattern in patterns if pattern.startswith("*."))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = host_of(Headers(scope=scope).get("host"))
        if host is not None and (host in self.exact or host.endswith(self.suffixes)):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        shown = "none" if host is None else repr(host)
        refusal = JSONResponse(
            {"detail": f"host {shown} is not served here (api.allowed_hosts)"}, status_code=400
        )
        await refusal(scope, receive, send)


def host_of(header: str | None) -> str | None:
    """The host of a `Host` header, lower case, without port and IPv6 brackets; None when the
    header is missing or malformed."""
    if not header:
        return None
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        if end == -1:
            return None
        host, rest = header[1:end], header[end + 1 :]
    else:
        host, colon, port = header.partition(":")
        rest = colon + port
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return None
    host = host.rstrip(".")
    return host or None
