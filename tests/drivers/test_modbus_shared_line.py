"""Devices on one line share one connection and take turns on it."""

import asyncio
import itertools

import pytest

from pstg.drivers.base import ConnectionState
from pstg.drivers.errors import DeviceException, RequestTimeout
from pstg.drivers.planner import ReadBlock
from pstg.model import RegisterTable
from tests.drivers.conftest import MakeDriver
from tests.support.modbus_server import ModbusTestServer

HR = RegisterTable.HOLDING_REGISTER


def block(address: int, count: int = 1) -> ReadBlock:
    return ReadBlock(HR, address, count, tags=())


def gaps(server: ModbusTestServer) -> list[float]:
    """Seconds between the arrivals of consecutive requests at the server."""
    times = [at for at, _unit, _code in server.request_log]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


@pytest.mark.parametrize("driver", ["modbus-tcp", "modbus-rtu-over-tcp"])
async def test_two_units_share_one_connection(driver, make_driver: MakeDriver):
    async with ModbusTestServer(units=(1, 2), rtu_framing=driver != "modbus-tcp") as server:
        await server.set_values(1, HR, 0, [11])
        await server.set_values(2, HR, 0, [22])
        unit1 = make_driver(driver, port=server.port, unit_id=1)
        unit2 = make_driver(driver, port=server.port, unit_id=2)

        results = await asyncio.gather(*(unit.read(block(0)) for unit in [unit1, unit2] * 5))

        assert [list(words) for words in results] == [[11], [22]] * 5
        assert server.connections == 1
        assert server.request_count(unit=1) == server.request_count(unit=2) == 5
        await unit1.close()
        await unit2.close()


async def test_requests_on_a_line_never_overlap(
    modbus_server: ModbusTestServer, make_driver: MakeDriver
):
    modbus_server.response_delay = 0.05
    unit1 = make_driver(port=modbus_server.port, unit_id=1)
    unit2 = make_driver(port=modbus_server.port, unit_id=2)

    await asyncio.gather(*(unit.read(block(0)) for unit in [unit1, unit2] * 3))

    # The next request leaves only after the previous answer, which takes 50 ms to come.
    assert len(gaps(modbus_server)) == 5
    assert min(gaps(modbus_server)) >= 0.045


async def test_pause_between_requests_is_kept(
    modbus_server: ModbusTestServer, make_driver: MakeDriver
):
    unit1 = make_driver(port=modbus_server.port, unit_id=1, pause_between_requests=0.1)
    unit2 = make_driver(port=modbus_server.port, unit_id=2)  # the line's longest pause applies

    await asyncio.gather(*(unit.read(block(0)) for unit in [unit1, unit2] * 2))

    assert min(gaps(modbus_server)) >= 0.095


async def test_the_last_device_to_close_closes_the_connection(
    modbus_server: ModbusTestServer, make_driver: MakeDriver
):
    unit1 = make_driver(port=modbus_server.port, unit_id=1)
    unit2 = make_driver(port=modbus_server.port, unit_id=2)
    await unit1.connect()
    await unit2.connect()

    await unit1.close()
    assert unit1.state is ConnectionState.DISCONNECTED
    assert unit2.state is ConnectionState.CONNECTED
    await unit2.read(block(0))

    await unit2.close()
    await asyncio.sleep(0.05)
    assert modbus_server.open_connections == 0
    assert modbus_server.connections == 1


async def test_devices_on_other_ports_get_their_own_connection(make_driver: MakeDriver):
    async with ModbusTestServer() as first, ModbusTestServer() as second:
        await first.set_values(1, HR, 0, [1])
        await second.set_values(1, HR, 0, [2])
        on_first = make_driver(port=first.port)
        on_second = make_driver(port=second.port)

        assert list(await on_first.read(block(0))) == [1]
        assert list(await on_second.read(block(0))) == [2]
        assert first.connections == second.connections == 1
        await on_first.close()
        await on_second.close()


async def test_a_unit_the_gateway_does_not_reach_leaves_its_neighbour_alone(
    modbus_server: ModbusTestServer, make_driver: MakeDriver
):
    await modbus_server.set_values(1, HR, 0, [5])
    present = make_driver(port=modbus_server.port, unit_id=1)
    absent = make_driver(port=modbus_server.port, unit_id=7)

    with pytest.raises(DeviceException) as caught:
        await absent.read(block(0))

    assert caught.value.code == 11
    assert list(await present.read(block(0))) == [5]
    assert modbus_server.connections == 1


async def test_a_neighbour_waiting_behind_a_timeout_still_gets_its_answer(
    modbus_server: ModbusTestServer, make_driver: MakeDriver
):
    await modbus_server.set_values(2, HR, 0, [9])
    modbus_server.response_delay = 0.2
    impatient = make_driver(port=modbus_server.port, unit_id=1, timeout=0.1)
    patient = make_driver(port=modbus_server.port, unit_id=2, timeout=0.5)

    first, second = await asyncio.gather(
        impatient.read(block(0)), patient.read(block(0)), return_exceptions=True
    )

    # The timeout dropped the connection; the waiting request went out on a fresh one.
    assert isinstance(first, RequestTimeout)
    assert second == [9]
    assert modbus_server.connections == 2


async def test_a_write_goes_before_the_reads_waiting_on_the_line(
    modbus_server: ModbusTestServer, make_driver: MakeDriver
):
    modbus_server.response_delay = 0.05
    poller = make_driver(port=modbus_server.port, unit_id=1)
    operator = make_driver(port=modbus_server.port, unit_id=2)
    await poller.connect()
    reads = [asyncio.create_task(poller.read(block(n))) for n in range(4)]
    for _ in range(400):  # until the first read is on the wire and three wait
        if modbus_server.request_log:
            break
        await asyncio.sleep(0.005)

    await operator.write(HR, 10, [0x4148, 0x0000])

    codes = [code for _at, _unit, code in modbus_server.request_log]
    assert codes[:2] == [3, 16]  # behind the read on the wire only, in one FC16 request
    await asyncio.gather(*reads)
    assert [code for _at, _unit, code in modbus_server.request_log] == [3, 16, 3, 3, 3]
    assert await modbus_server.get_values(2, HR, 10, 2) == [0x4148, 0x0000]


async def test_a_request_cancelled_while_waiting_its_turn_does_not_hold_the_line(
    modbus_server: ModbusTestServer, make_driver: MakeDriver
):
    modbus_server.response_delay = 0.05
    unit = make_driver(port=modbus_server.port, unit_id=1)
    await unit.connect()
    first = asyncio.create_task(unit.read(block(0)))
    waiting = asyncio.create_task(unit.write(HR, 1, [7]))
    behind = asyncio.create_task(unit.read(block(1)))
    await asyncio.sleep(0.01)
    waiting.cancel()

    await asyncio.gather(first, behind)

    assert waiting.cancelled()
    assert [code for _at, _unit, code in modbus_server.request_log] == [3, 3]
