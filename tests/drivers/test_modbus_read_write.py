"""Reads and writes through each Modbus driver against a real pymodbus server on 127.0.0.1.

modbus-rtu runs over pyserial's socket:// URL against an RTU-over-TCP server, so the serial code
path (pymodbus's serial transport, RTU framing) is exercised without a serial port. pyserial
sleeps 0.3s when it closes a socket:// port, so that driver gets one test of its own.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from pstg.drivers.base import ConnectionState, Driver
from pstg.drivers.planner import ReadBlock
from pstg.model import RegisterTable
from tests.drivers.conftest import MakeDriver
from tests.support.modbus_server import ModbusTestServer

HR = RegisterTable.HOLDING_REGISTER
IR = RegisterTable.INPUT_REGISTER
COIL = RegisterTable.COIL
DI = RegisterTable.DISCRETE_INPUT


def block(table: RegisterTable, address: int, count: int) -> ReadBlock:
    return ReadBlock(table, address, count, tags=())


def state(driver: Driver) -> ConnectionState:
    # A call, so that mypy does not narrow `driver.state` across the awaits in between.
    return driver.state


@pytest.fixture(params=["modbus-tcp", "modbus-rtu-over-tcp"])
async def served(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[ModbusTestServer, dict[str, Any]]]:
    """A server and the device fields that reach it with the driver under test."""
    driver = request.param
    rtu_framing = driver != "modbus-tcp"
    async with ModbusTestServer(units=(1, 2), rtu_framing=rtu_framing, size=2000) as server:
        yield server, {"driver": driver, "host": server.host, "port": server.port}


@pytest.mark.parametrize(
    ("table", "address", "values"),
    [
        (HR, 0, [1, 2, 3, 0xFFFF]),
        (HR, 1990, [7] * 10),  # up to the last address
        (IR, 100, [42, 0, 65535]),
        (COIL, 3, [1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1, 1]),  # 13 bits: not a whole byte
        (DI, 1997, [1, 0, 1]),  # up to the last address
    ],
)
async def test_read_each_table(served, make_driver: MakeDriver, table, address, values):
    server, fields = served
    await server.set_values(1, table, address, values)
    driver = make_driver(**fields)

    words = await driver.read(block(table, address, len(values)))

    assert list(words) == values
    assert server.request_count(unit=1) == 1


@pytest.mark.parametrize("count", [1, 7, 8, 9, 16, 17, 125, 1999, 2000])
async def test_bit_reads_return_exactly_count_items(served, make_driver: MakeDriver, count):
    server, fields = served
    await server.set_values(1, COIL, 0, [1] * count)
    driver = make_driver(**fields)

    bits = await driver.read(block(COIL, 0, count))

    # pymodbus pads bit answers to whole bytes; the driver trims them to what was asked.
    assert list(bits) == [1] * count


async def test_each_unit_reads_its_own_datastore(served, make_driver: MakeDriver):
    server, fields = served
    await server.set_values(1, HR, 10, [111])
    await server.set_values(2, HR, 10, [222])
    unit1 = make_driver(unit_id=1, **fields)
    unit2 = make_driver(unit_id=2, **fields)

    assert list(await unit1.read(block(HR, 10, 1))) == [111]
    assert list(await unit2.read(block(HR, 10, 1))) == [222]


@pytest.mark.parametrize(
    ("table", "values", "function_code"),
    [
        (COIL, [1], 5),
        (COIL, [1, 0, 1, 1], 15),
        (HR, [1234], 6),
        (HR, [1, 2, 65535], 16),
    ],
)
async def test_write(served, make_driver: MakeDriver, table, values, function_code):
    server, fields = served
    driver = make_driver(**fields)

    await driver.write(table, 20, values)

    assert await server.get_values(1, table, 20, len(values)) == values
    assert server.request_count(unit=1, function_code=function_code) == 1
    assert list(await driver.read(block(table, 20, len(values)))) == values


async def test_writing_a_coil_off(modbus_server: ModbusTestServer, make_driver: MakeDriver):
    await modbus_server.set_values(1, COIL, 5, [1])
    driver = make_driver(port=modbus_server.port)

    await driver.write(COIL, 5, [0])

    assert await modbus_server.get_values(1, COIL, 5, 1) == [0]


@pytest.mark.parametrize("table", [IR, DI])
async def test_read_only_tables_cannot_be_written(
    modbus_server: ModbusTestServer, make_driver: MakeDriver, table
):
    driver = make_driver(port=modbus_server.port)
    with pytest.raises(ValueError, match="read-only"):
        await driver.write(table, 0, [1])
    assert modbus_server.request_count() == 0


async def test_state_follows_connect_and_close(
    modbus_server: ModbusTestServer, make_driver: MakeDriver
):
    driver = make_driver(port=modbus_server.port)
    assert state(driver) is ConnectionState.DISCONNECTED

    await driver.connect()
    assert state(driver) is ConnectionState.CONNECTED
    await driver.connect()  # a no-op when connected
    assert modbus_server.connections == 1

    await driver.close()
    assert state(driver) is ConnectionState.DISCONNECTED


async def test_read_connects_on_demand(modbus_server: ModbusTestServer, make_driver: MakeDriver):
    await modbus_server.set_values(1, HR, 0, [5])
    driver = make_driver(port=modbus_server.port)

    assert list(await driver.read(block(HR, 0, 1))) == [5]
    assert driver.state is ConnectionState.CONNECTED


async def test_modbus_rtu_reads_and_writes_over_a_serial_transport(
    rtu_over_tcp_server: ModbusTestServer, make_driver: MakeDriver
):
    server = rtu_over_tcp_server
    url = f"socket://{server.host}:{server.port}"
    for table in RegisterTable:
        await server.set_values(2, table, 7, [1, 0, 1])
    driver = make_driver("modbus-rtu", serial_port=url, unit_id=2)

    for table in RegisterTable:
        assert list(await driver.read(block(table, 7, 3))) == [1, 0, 1]
    await driver.write(HR, 0, [10, 20])
    await driver.write(COIL, 0, [1])

    assert await server.get_values(2, HR, 0, 2) == [10, 20]
    assert await server.get_values(2, COIL, 0, 1) == [1]
