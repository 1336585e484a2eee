"""How the Modbus drivers fail: each failure maps to one DriverError, fast, and never hangs.

Against real servers on 127.0.0.1: nothing listening, a server that never answers, Modbus
exception responses, garbage answers, a server that restarts or drops the connection.
"""

import asyncio
import socket
import sys
import time
from pathlib import Path

import pytest
from pymodbus.exceptions import ModbusException

from pstg.drivers.base import ConnectionState
from pstg.drivers.errors import (
    ConnectFailed,
    ConnectionLost,
    DeviceException,
    DriverError,
    MalformedResponse,
    RequestTimeout,
)
from pstg.drivers.planner import ReadBlock
from pstg.model import RegisterTable
from tests.drivers.conftest import MakeDriver
from tests.support.modbus_server import (
    FullBacklogListener,
    GarbageKind,
    GarbageServer,
    ModbusTestServer,
    SilentServer,
)

HR = RegisterTable.HOLDING_REGISTER


def block(address: int = 0, count: int = 2, table: RegisterTable = HR) -> ReadBlock:
    return ReadBlock(table, address, count, tags=())


def free_port() -> int:
    """A port nothing listens on (bound then released at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_ours(exc: BaseException) -> None:
    """Nothing of pymodbus escapes: the error and what it wraps are ours or the stdlib's."""
    assert isinstance(exc, DriverError)
    assert not isinstance(exc, ModbusException)
    assert type(exc).__module__ == "pstg.drivers.errors"


async def test_nothing_listening_fails_connect_fast(make_driver: MakeDriver):
    port = free_port()
    driver = make_driver(port=port)

    started = time.monotonic()
    with pytest.raises(ConnectFailed, match=f"connection refused by 127.0.0.1:{port}") as caught:
        await driver.connect()

    assert time.monotonic() - started < 0.25
    assert driver.state is ConnectionState.DISCONNECTED
    assert_ours(caught.value)
    with pytest.raises(ConnectFailed):  # reading opens the line, and fails the same way
        await driver.read(block())


@pytest.mark.skipif(sys.platform != "linux", reason="relies on Linux dropping SYNs to a full queue")
async def test_connect_that_hangs_times_out(make_driver: MakeDriver):
    async with FullBacklogListener() as listener:
        driver = make_driver(port=listener.port, timeout=0.2)

        started = time.monotonic()
        with pytest.raises(
            ConnectFailed, match=f"timed out connecting to 127.0.0.1:{listener.port}"
        ):
            await driver.connect()

        assert 0.19 <= time.monotonic() - started < 0.5
        assert driver.state is ConnectionState.DISCONNECTED


@pytest.mark.parametrize("driver", ["modbus-tcp", "modbus-rtu-over-tcp"])
async def test_silent_server_times_out_within_the_timeout(driver, make_driver: MakeDriver):
    async with SilentServer() as silent:
        device = make_driver(driver, port=silent.port, timeout=0.3)
        await device.connect()

        started = time.monotonic()
        with pytest.raises(RequestTimeout, match=r"no answer from unit 1 at .* within 0.3s"):
            await device.read(block())
        elapsed = time.monotonic() - started

        assert 0.29 <= elapsed < 0.6
        assert silent.received > 0
        # The line was dropped so a late answer cannot be taken for the next one's.
        assert device.state is ConnectionState.DISCONNECTED
        with pytest.raises(RequestTimeout):
            await device.read(block())
        assert silent.connections == 2
        await device.close()


async def test_retries_resend_on_a_fresh_connection(make_driver: MakeDriver):
    async with SilentServer() as silent:
        device = make_driver(port=silent.port, timeout=0.1, retries=2)

        started = time.monotonic()
        with pytest.raises(RequestTimeout):
            await device.read(block())

        assert 0.29 <= time.monotonic() - started < 0.6
        assert silent.connections == 3
        await device.close()


@pytest.mark.parametrize(
    ("unit", "address", "code", "name"),
    [
        (1, 995, 2, "illegal data address"),  # runs past the end of the datastore
        (9, 0, 11, "gateway target device failed to respond"),  # a unit the server lacks
    ],
)
async def test_exception_response_is_a_device_exception(
    modbus_server: ModbusTestServer, make_driver: MakeDriver, unit, address, code, name
):
    device = make_driver(port=modbus_server.port, unit_id=unit)

    with pytest.raises(DeviceException) as caught:
        await device.read(block(address, 10))

    assert (caught.value.code, caught.value.name) == (code, name)
    assert f"unit {unit} at 127.0.0.1:{modbus_server.port}" in str(caught.value)
    assert_ours(caught.value)
    # The device answered: the line stays up and serves the next request.
    assert device.state is ConnectionState.CONNECTED
    neighbour = make_driver(port=modbus_server.port, unit_id=2)
    assert len(await neighbour.read(block(0, 10))) == 10
    assert modbus_server.connections == 1


async def test_exception_response_to_a_write(
    modbus_server: ModbusTestServer, make_driver: MakeDriver
):
    device = make_driver(port=modbus_server.port)
    with pytest.raises(DeviceException) as caught:
        await device.write(HR, 999, [1, 2])
    assert caught.value.code == 2


# Every kind of garbage ends as MalformedResponse, never a pymodbus error. How fast depends on
# what pymodbus does with it:
# - a well-formed frame that does not answer the request (count, function): checked by the
#   driver at once;
# - a frame pymodbus cannot decode (byte count, unknown function): pymodbus raises inside
#   asyncio's data_received, asyncio logs "Fatal error" and closes the connection; the driver
#   sees the undecoded bytes and the close at once;
# - a frame pymodbus skips (other transaction id) or waits to complete (truncated, noise): the
#   request runs into the timeout, and the bytes seen meanwhile make it malformed, not silent.
GARBAGE: list[tuple[GarbageKind, bool]] = [
    ("wrong_count", True),
    ("wrong_function", True),
    ("bad_byte_count", True),
    ("unknown_function", True),
    ("wrong_transaction_id", False),
    ("truncated", False),
    ("noise", False),
]


@pytest.mark.parametrize(("kind", "at_once"), GARBAGE)
async def test_garbage_is_a_malformed_response(make_driver: MakeDriver, kind, at_once):
    # "At once" is told from "after the timeout" by a timeout far longer than any scheduling
    # delay of a busy machine (a bound of 0.15 s against 0.2 s failed in a CI run); the garbage
    # that waits for the timeout gets a short one, and only its lower bound is strict.
    timeout = 10.0 if at_once else 0.2
    async with GarbageServer(kind) as garbage:
        device = make_driver(port=garbage.port, timeout=timeout)

        started = time.monotonic()
        with pytest.raises(MalformedResponse) as caught:
            await device.read(block(0, 3))
        elapsed = time.monotonic() - started

        assert_ours(caught.value)
        if at_once:
            assert elapsed < timeout / 2
        else:
            assert timeout * 0.95 <= elapsed < timeout + 5
        assert device.state is ConnectionState.DISCONNECTED  # the next request starts afresh
        await device.close()


@pytest.mark.parametrize("table", list(RegisterTable))
async def test_short_answers_are_malformed_for_every_table(make_driver: MakeDriver, table):
    async with GarbageServer("wrong_count") as garbage:
        device = make_driver(port=garbage.port)
        with pytest.raises(MalformedResponse, match="asked for 9"):
            await device.read(block(0, 9, table))
        await device.close()


async def test_rtu_line_noise_is_a_malformed_response(make_driver: MakeDriver):
    async with GarbageServer("noise") as garbage:
        device = make_driver("modbus-rtu-over-tcp", port=garbage.port, timeout=0.2)
        with pytest.raises(MalformedResponse, match="no valid answer"):
            await device.read(block())
        await device.close()


async def test_server_restart_fails_then_recovers(
    modbus_server: ModbusTestServer, make_driver: MakeDriver
):
    await modbus_server.set_values(1, HR, 0, [3, 4])
    device = make_driver(port=modbus_server.port)
    assert list(await device.read(block())) == [3, 4]

    await modbus_server.stop()
    with pytest.raises((ConnectionLost, ConnectFailed)) as caught:
        await device.read(block())
    assert_ours(caught.value)
    assert device.state is ConnectionState.DISCONNECTED

    await modbus_server.start()
    await device.connect()
    assert list(await device.read(block())) == [3, 4]
    assert modbus_server.connections == 2


async def test_connection_dropped_during_a_request_is_connection_lost(
    modbus_server: ModbusTestServer, make_driver: MakeDriver
):
    modbus_server.response_delay = 1.0
    device = make_driver(port=modbus_server.port, timeout=2.0)
    await device.connect()

    started = time.monotonic()
    reading = asyncio.ensure_future(device.read(block()))
    await asyncio.sleep(0.1)
    await modbus_server.stop()

    with pytest.raises(ConnectionLost, match=r"lost during read holding_register 0\.\.1"):
        await reading
    assert time.monotonic() - started < 0.6  # not the 2 s timeout
    assert device.state is ConnectionState.DISCONNECTED


async def test_a_late_answer_is_not_taken_for_the_next_request(
    rtu_over_tcp_server: ModbusTestServer, make_driver: MakeDriver
):
    # RTU frames carry no transaction id: only a fresh connection keeps the late answer to the
    # first request (due at 0.4 s) from being read as the answer to the second (due at 0.5 s).
    server = rtu_over_tcp_server
    await server.set_values(1, HR, 0, [100, 100])
    await server.set_values(1, HR, 10, [200, 200])
    device = make_driver("modbus-rtu-over-tcp", port=server.port, timeout=0.3)

    server.response_delay = 0.4
    with pytest.raises(RequestTimeout):
        await device.read(block(0))
    server.response_delay = 0.2

    assert list(await device.read(block(10))) == [200, 200]


async def test_a_cancelled_read_leaves_the_line_usable(
    modbus_server: ModbusTestServer, make_driver: MakeDriver
):
    await modbus_server.set_values(1, HR, 0, [1, 2])
    modbus_server.response_delay = 0.1
    device = make_driver(port=modbus_server.port)

    reading = asyncio.ensure_future(device.read(block()))
    await asyncio.sleep(0.02)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading

    assert list(await device.read(block())) == [1, 2]


async def test_missing_serial_port_fails_connect(make_driver: MakeDriver, tmp_path: Path):
    port = tmp_path / "ttyUSB9"
    device = make_driver("modbus-rtu", serial_port=str(port))

    with pytest.raises(ConnectFailed, match=f"serial port {port} not found") as caught:
        await device.connect()
    assert_ours(caught.value)


def test_modbus_rtu_needs_a_serial_port(make_driver: MakeDriver):
    with pytest.raises(ValueError, match="needs serial_port"):
        make_driver("modbus-rtu")
