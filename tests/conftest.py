"""Fixtures shared across test folders. Servers are real and listen on 127.0.0.1 only."""

from collections.abc import AsyncIterator

import pytest

from tests.support.modbus_server import ModbusTestServer


@pytest.fixture
async def modbus_server() -> AsyncIterator[ModbusTestServer]:
    """A Modbus TCP server serving unit ids 1 and 2 (values 0 until set)."""
    async with ModbusTestServer(units=(1, 2)) as server:
        yield server


@pytest.fixture
async def rtu_over_tcp_server() -> AsyncIterator[ModbusTestServer]:
    """The same, speaking RTU frames over TCP like a serial-to-Ethernet converter."""
    async with ModbusTestServer(units=(1, 2), rtu_framing=True) as server:
        yield server
