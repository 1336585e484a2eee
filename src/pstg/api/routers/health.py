"""GET /health: is the service able to do its job? No token needed (load balancers, `pstg
health`, uptime checks).

The status code and the body's `status` always agree:

    ok        200  the database answers, no device is down, the writer writes
    degraded  200  some (not all) devices are down, or the writer is buffering to disk
                   because its last database write failed: the service still does its job
    down      503  the database does not answer, or every enabled device is down
"""

from __future__ import annotations

import asyncio
import time
from typing import Literal

import sqlalchemy as sa
from fastapi import APIRouter, Response
from sqlalchemy.engine import Engine

from pstg.api.deps import Context
from pstg.api.routers import API_PREFIX
from pstg.api.schemas import DatabaseHealth, DeviceHealth, HealthOut, WriterHealth
from pstg.model import utc_now
from pstg.poller.stats import DeviceStats, LinkStatus
from pstg.storage.schema import stations

DATABASE_TIMEOUT = 5.0
"""Seconds the database check may take before it counts as failed."""

router = APIRouter(prefix=API_PREFIX, tags=["health"])


@router.get(
    "/health",
    response_model=HealthOut,
    summary="Health of the database, the devices and the writer",
    responses={503: {"model": HealthOut, "description": "`down`: the database or every device."}},
)
@router.head("/health", include_in_schema=False)
async def health(context: Context, response: Response) -> HealthOut:
    database = await check_database(context.engine, context.station_id)
    stats = context.device_stats()
    devices = [
        _device(stats.get(device.id) or DeviceStats(device.id))
        for device in context.config.devices
        if device.enabled
    ]
    writer_stats = context.writer_stats()
    writer = (
        None
        if writer_stats is None
        else WriterHealth(
            database_up=writer_stats.database_up,
            pending=writer_stats.pending,
            spool_bytes=writer_stats.spool_bytes,
            spool_fill=writer_stats.spool_fill,
            dropped=writer_stats.dropped,
        )
    )
    down = [device for device in devices if device.status == LinkStatus.DOWN.value]
    all_down = bool(devices) and len(down) == len(devices)
    status: Literal["ok", "degraded", "down"] = "ok"
    if not database.ok or all_down:
        status = "down"
        response.status_code = 503
    elif down or (writer is not None and not writer.database_up):
        status = "degraded"
    return HealthOut(
        status=status,
        station_id=context.config.station.id,
        database=database,
        devices=devices,
        writer=writer,
        uptime_s=round((utc_now() - context.started_at).total_seconds(), 3),
    )


async def check_database(engine: Engine, station_id: int) -> DatabaseHealth:
    """Read the station's row (the schema is there, not only the server), in a worker thread,
    for at most DATABASE_TIMEOUT seconds."""

    def probe() -> float:
        started = time.perf_counter()
        with engine.connect() as connection:
            connection.execute(sa.select(stations.c.id).where(stations.c.id == station_id)).all()
        return (time.perf_counter() - started) * 1000

    try:
        latency = await asyncio.wait_for(asyncio.to_thread(probe), DATABASE_TIMEOUT)
    except TimeoutError:
        return DatabaseHealth(
            ok=False, error=f"no answer within {DATABASE_TIMEOUT:g} s", latency_ms=None
        )
    except Exception as exc:  # any failure is the answer to "is the database usable"
        return DatabaseHealth(ok=False, error=_first_line(exc), latency_ms=None)
    return DatabaseHealth(ok=True, error=None, latency_ms=round(latency, 3))


def _device(stats: DeviceStats) -> DeviceHealth:
    return DeviceHealth(
        id=stats.device_id,
        status=stats.status.value,
        last_poll_at=stats.last_poll_at,
        last_success_at=stats.last_success_at,
        last_error=stats.last_error,
        last_error_kind=None if stats.last_error_kind is None else stats.last_error_kind.value,
    )


def _first_line(exc: Exception) -> str:
    """The driver's own message without SQLAlchemy's SQL and background link."""
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines() or [type(original).__name__]
    return lines[0][:200]
