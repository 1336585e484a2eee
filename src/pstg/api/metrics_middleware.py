"""API latency on `pstg_api_request_seconds{method, route, status}`, for every request.

A plain ASGI middleware (no per-request task or body buffering). The route label is the
matched route's template (`/api/v1/series`, `/api/v1/users/{name}`), never the raw path, so
the label set stays small whatever clients send: requests that match no route share
`unmatched`, and methods outside the standard ones (`FOO`, `PROPFIND`, ...) share `other`, so
no anonymous client can add series.
"""

from __future__ import annotations

import time

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"
OTHER_METHOD = "other"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class LatencyMiddleware:
    def __init__(self, app: ASGIApp, histogram: Histogram) -> None:
        self.app = app
        self.histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless the app starts a response

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            method = scope["method"] if scope["method"] in KNOWN_METHODS else OTHER_METHOD
            self.histogram.labels(method, template, str(status)).observe(
                time.perf_counter() - started
            )
