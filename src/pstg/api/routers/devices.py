"""GET /devices: each configured device with its connection state and poll statistics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from pstg.api.deps import Context
from pstg.api.routers import API_PREFIX
from pstg.api.schemas import DeviceOut
from pstg.api.security import require
from pstg.auth.roles import Role
from pstg.config.models import DeviceConfig
from pstg.poller.stats import DeviceStats

router = APIRouter(
    prefix=API_PREFIX, tags=["devices"], dependencies=[Depends(require(Role.VIEWER))]
)


@router.get(
    "/devices",
    response_model=list[DeviceOut],
    summary="Devices with connection state and poll statistics",
)
async def list_devices(context: Context) -> list[dict[str, Any]]:
    stats = context.device_stats()
    return [
        _device(device, stats.get(device.id) or DeviceStats(device.id))
        for device in context.config.devices
    ]


def _device(device: DeviceConfig, stats: DeviceStats) -> dict[str, Any]:
    return {
        **stats.snapshot(),
        "driver": device.driver,
        "address": device.serial_port or f"{device.host}:{device.port}",
        "unit_id": device.unit_id,
        "enabled": device.enabled,
        "tags": len(device.tags),
    }
