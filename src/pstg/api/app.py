"""The FastAPI application: `create_app(context)`.

All routers but /metrics live under /api/v1 (`pstg.api.routers.API_PREFIX`); the OpenAPI
schema is at /openapi.json, its UI at /docs (served from the package, `pstg.api.docs`). The
HTTP hygiene (security headers, Host allow-list, trusted proxies) is `pstg.api.hygiene`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from pstg.api.context import ApiContext
from pstg.api.docs import install_docs
from pstg.api.errors import install_error_handlers
from pstg.api.hygiene import install_http_hygiene
from pstg.api.metrics_middleware import LatencyMiddleware
from pstg.api.routers import (
    alarms,
    audit,
    auth,
    commands,
    config,
    devices,
    events,
    health,
    metrics,
    notifications,
    stream,
    tags,
    timeseries,
    users,
)
from pstg.api.shared_reads import SharedReads
from pstg.api.stream.hub import StreamHub
from pstg.api.tag_list import TagList
from pstg.api.time_limit import TimeLimit

OPENAPI_URL = "/openapi.json"


def create_app(context: ApiContext) -> FastAPI:
    """The API around `context` (which the routers read through `pstg.api.deps.get_context`)."""
    app = FastAPI(
        title="PSTG",
        summary="Pump Station Telemetry Gateway",
        version=_version(),
        docs_url=None,  # install_docs: no CDN
        openapi_url=OPENAPI_URL,
        redoc_url=None,
    )
    app.state.context = context
    app.state.streams = StreamHub(context, max_streams=context.config.api.max_streams)
    app.state.tag_list = TagList(context.config, context.live)
    app.state.shared_reads = SharedReads()
    install_error_handlers(app)
    app.add_middleware(TimeLimit, seconds=context.config.api.request_timeout)
    app.add_middleware(LatencyMiddleware, histogram=context.metrics.api_latency)
    install_http_hygiene(app, context.config.api)
    install_docs(app, OPENAPI_URL)
    routers = (
        health, auth, users, devices, tags, stream, timeseries, events, alarms, commands,
        notifications, audit, config,
    )  # fmt: skip
    for module in (*routers, metrics):
        app.include_router(module.router)  # each carries its prefix
    return app


async def close_streams(app: FastAPI) -> None:
    """End the app's live streams (GET /api/v1/stream) and refuse new ones: before the server
    stops, which otherwise waits for every open response to end."""
    hub: StreamHub = app.state.streams
    await hub.close()


def release_app(app: FastAPI) -> None:
    """Close what the app opened for itself (the credential checks' own connections) once
    the server has stopped."""
    context: ApiContext = app.state.context
    context.auth.loop_reads.close()


def _version() -> str:
    try:
        return version("pstg")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"
