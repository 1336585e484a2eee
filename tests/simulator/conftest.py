"""Simulator fixtures: a running simulator on a free port, and real Modbus clients for it: the
collector's own driver, and pymodbus's client (a foreign one: the exact function code sent)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from pymodbus.client import AsyncModbusTcpClient

from pstg.config.models import DeviceConfig
from pstg.drivers.base import Driver, DriverContext
from pstg.drivers.planner import ReadBlock
from pstg.drivers.registry import create_driver
from pstg.model import RegisterTable
from pstg.simulator.runner import Simulator, SimulatorOptions

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
FROZEN = 0.001
"""A speed at which the clock does not step during a test: tests step the models themselves."""


def options(**changes: object) -> SimulatorOptions:
    settings: dict[str, object] = {"port": 0, "speed": FROZEN, "start": START, "seed": 1}
    settings.update(changes)
    return SimulatorOptions(**settings)  # type: ignore[arg-type]


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    async with Simulator(options()) as running:
        yield running


async def client(
    port: int, unit: int = 1, response_timeout: float = 1.0
) -> tuple[Driver, DriverContext]:
    device = DeviceConfig(id="client", port=port, unit_id=unit, timeout=response_timeout)
    context = DriverContext()
    driver = create_driver(device, context)
    await driver.connect()
    return driver, context


async def read(driver: Driver, table: RegisterTable, address: int, count: int) -> list[int]:
    return list(await driver.read(ReadBlock(table, address, count, ())))


@asynccontextmanager
async def foreign_client(port: int) -> AsyncIterator[AsyncModbusTcpClient]:
    """pymodbus's own TCP client on 127.0.0.1:`port`, connected."""
    modbus = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
    assert await modbus.connect()
    try:
        yield modbus
    finally:
        modbus.close()
