"""Driver test fixtures: build drivers through the registry, close them, check nothing leaks."""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from pstg.config.models import DeviceConfig
from pstg.drivers.base import Driver, DriverContext
from pstg.drivers.registry import create_driver

MakeDriver = Callable[..., Driver]


@pytest.fixture(autouse=True)
async def no_leaked_tasks() -> AsyncIterator[None]:
    """Fail a test that leaves tasks running behind it (after all other fixtures closed)."""
    yield
    current = asyncio.current_task()
    for _ in range(5):  # closed transports and cancelled tasks finish within a few iterations
        leftovers = [task for task in asyncio.all_tasks() if task is not current]
        if not leftovers:
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"tasks left running: {leftovers}")


@pytest.fixture
async def driver_context() -> AsyncIterator[DriverContext]:
    context = DriverContext()
    yield context
    await context.aclose()


@pytest.fixture
async def make_driver(driver_context: DriverContext) -> AsyncIterator[MakeDriver]:
    """`make_driver(driver="modbus-tcp", **device_fields)`: a driver in the shared context."""
    drivers: list[Driver] = []

    def make(driver: str = "modbus-tcp", **fields: Any) -> Driver:
        # 2 s, not less: a write is never retried, so one slow connect on a busy CI machine
        # failed it at 0.3 s. Tests about timeouts pass their own.
        config = {"id": f"dev{len(drivers) + 1}", "driver": driver, "timeout": 2.0, **fields}
        created = create_driver(DeviceConfig.model_validate(config), driver_context)
        drivers.append(created)
        return created

    yield make
    for created in drivers:
        await created.close()
