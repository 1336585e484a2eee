"""Writing one tag from a running Poller: encoded by the tag's codec, one request per value on
the device's line, read back, and every outcome told apart (written, device_refused, failed)."""

import pytest

from pstg.drivers.errors import FailureKind
from pstg.errors import Forbidden, Invalid, NotFound, Unavailable
from pstg.model import RegisterTable
from pstg.poller.writes import WriteStatus
from tests.poller.conftest import for_station, free_port, station
from tests.support.modbus_server import ModbusTestServer, SilentServer

HR = RegisterTable.HOLDING_REGISTER


def pump_station(port: int, **extra):
    return station(
        {
            "id": "plc",
            "port": port,
            "unit_id": 1,
            "poll_interval": "100ms",
            "timeout": "300ms",
            "tags": [
                {"name": "setpoint", "source": "holding_register", "address": 10,
                 "type": "float32", "word_order": "little", "writable": True},
                {"name": "speed", "source": "holding_register", "address": 20,
                 "scale": 0.1, "writable": True},
                {"name": "remote_run", "source": "coil", "address": 3, "writable": True},
                {"name": "level", "source": "holding_register", "address": 30,
                 "type": "float32", "word_order": "little"},
                {"name": "auto", "source": "holding_register", "address": 40, "bit": 2,
                 "type": "bool", "writable": True},
            ],
            **extra,
        }
    )  # fmt: skip


def write_requests(server: ModbusTestServer) -> dict[int, int]:
    return {code: server.request_count(1, code) for code in (5, 6, 15, 16)}


async def test_a_little_endian_float32_goes_out_as_one_fc16_request_and_reads_back():
    async with ModbusTestServer() as server, for_station(pump_station(server.port)) as poller:
        outcome = await poller.write_tag("setpoint", 12.5)

        assert outcome.status is WriteStatus.WRITTEN
        assert outcome.words == (0x0000, 0x4148)  # 0x41480000, low word first
        assert outcome.function_code == 16
        assert await server.get_values(1, HR, 10, 2) == [0x0000, 0x4148]
        assert write_requests(server) == {5: 0, 6: 0, 15: 0, 16: 1}  # never two FC6
        assert outcome.read_back == 12.5
        assert outcome.confirmed is True


async def test_a_scaled_register_is_unscaled_and_written_with_fc6():
    async with ModbusTestServer() as server, for_station(pump_station(server.port)) as poller:
        outcome = await poller.write_tag("speed", 42.3)

        assert outcome.status is WriteStatus.WRITTEN
        assert outcome.function_code == 6
        assert await server.get_values(1, HR, 20, 1) == [423]
        assert write_requests(server) == {5: 0, 6: 1, 15: 0, 16: 0}
        assert outcome.read_back == pytest.approx(42.3)
        assert outcome.confirmed is True


async def test_a_coil_is_written_with_fc5():
    async with ModbusTestServer() as server, for_station(pump_station(server.port)) as poller:
        outcome = await poller.write_tag("remote_run", True)

        assert outcome.status is WriteStatus.WRITTEN
        assert outcome.function_code == 5
        assert await server.get_values(1, RegisterTable.COIL, 3, 1) == [1]
        assert write_requests(server) == {5: 1, 6: 0, 15: 0, 16: 0}
        assert (outcome.read_back, outcome.confirmed) == (1, True)


async def test_a_bit_of_a_register_keeps_the_other_bits():
    async with ModbusTestServer() as server, for_station(pump_station(server.port)) as poller:
        await server.set_values(1, HR, 40, [0b1000_0001])

        outcome = await poller.write_tag("auto", True)

        assert outcome.status is WriteStatus.WRITTEN
        assert await server.get_values(1, HR, 40, 1) == [0b1000_0101]
        assert outcome.confirmed is True


async def test_a_value_the_device_stores_otherwise_is_written_but_not_confirmed():
    async with ModbusTestServer() as server, for_station(pump_station(server.port)) as poller:
        server.register_ceiling = 100  # a device clamping each register it is sent

        outcome = await poller.write_tag("setpoint", 12.5)

        assert outcome.status is WriteStatus.WRITTEN
        assert outcome.read_back != 12.5
        assert outcome.confirmed is False
        assert "expected 12.5" in outcome.message

        unchecked = await poller.write_tag("setpoint", 12.5, read_back=False)
        assert (unchecked.status, unchecked.confirmed) == (WriteStatus.WRITTEN, None)


async def test_tags_that_are_not_writable_unknown_or_given_a_wrong_value_are_refused():
    async with ModbusTestServer() as server, for_station(pump_station(server.port)) as poller:
        with pytest.raises(Forbidden, match="level is read-only"):
            await poller.write_tag("level", 1.0)
        with pytest.raises(NotFound, match="nope"):
            await poller.write_tag("nope", 1.0)
        with pytest.raises(Invalid, match="setpoint"):
            await poller.write_tag("setpoint", "high")
        with pytest.raises(Invalid, match="remote_run"):
            await poller.write_tag("remote_run", 2)
        with pytest.raises(Invalid, match="does not fit uint16"):
            await poller.write_tag("speed", 10_000)  # 100000 raw

        assert write_requests(server) == {5: 0, 6: 0, 15: 0, 16: 0}


async def test_a_device_exception_is_device_refused_with_its_code():
    async with ModbusTestServer() as server, for_station(pump_station(server.port)) as poller:
        server.refuse_writes = 3

        outcome = await poller.write_tag("setpoint", 12.5)

        assert outcome.status is WriteStatus.DEVICE_REFUSED
        assert outcome.exception_code == 3
        assert outcome.failure is FailureKind.DEVICE_EXCEPTION
        assert "illegal data value" in outcome.message
        assert await server.get_values(1, HR, 10, 2) == [0, 0]


async def test_an_offline_device_fails_at_once_with_the_kind_of_failure():
    async with for_station(pump_station(free_port())) as poller:
        outcome = await poller.write_tag("setpoint", 12.5)

    assert outcome.status is WriteStatus.FAILED
    assert outcome.failure is FailureKind.CONNECT_FAILED
    assert "refused" in outcome.message


async def test_a_silent_device_fails_within_its_own_timeout():
    async with SilentServer() as server, for_station(pump_station(server.port)) as poller:
        outcome = await poller.write_tag("setpoint", 12.5, read_back=False)

    assert outcome.status is WriteStatus.FAILED
    assert outcome.failure is FailureKind.TIMEOUT
    assert "within 0.3s" in outcome.message  # the device's timeout, not a library's 30 s


async def test_a_disabled_device_cannot_be_written():
    config = pump_station(free_port(), enabled=False)
    async with for_station(config) as poller:
        with pytest.raises(Unavailable, match="disabled"):
            await poller.write_tag("setpoint", 12.5)
