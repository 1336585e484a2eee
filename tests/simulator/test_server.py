"""The simulator on the network, seen by the collector's own Modbus driver: reads follow the
model, writes change the process, several units and stations, and scenario control."""

import asyncio
import struct
from pathlib import Path

import pytest

from pstg.drivers.errors import ConnectFailed, DeviceException, DriverError
from pstg.model import RegisterTable
from pstg.simulator.faults import FlakyProfile
from pstg.simulator.process import Hoa, ProcessScenario
from pstg.simulator.runner import Simulator, units_from_text
from pstg.simulator.scenarios import LinkMode, parse_scenario
from tests.simulator.conftest import client, foreign_client, options, read

IR = RegisterTable.INPUT_REGISTER
HR = RegisterTable.HOLDING_REGISTER
COIL = RegisterTable.COIL
DI = RegisterTable.DISCRETE_INPUT


def as_float(words: list[int]) -> float:
    value: float = struct.unpack(">f", struct.pack(">HH", *words))[0]
    return value


def cdab(value: float) -> list[int]:
    """A float32 as two registers, low word first (word order little)."""
    high, low = struct.unpack(">HH", struct.pack(">f", value))
    return [low, high]


async def test_reads_follow_the_model(simulator: Simulator) -> None:
    driver, context = await client(simulator.ports[0])
    station = simulator.stations[0]
    try:
        level = as_float(await read(driver, IR, 0, 2))
        assert level == pytest.approx(station.level_measured, abs=1e-6)
        simulator.advance(3600)  # an hour of simulated time
        moved = as_float(await read(driver, IR, 0, 2))
        assert moved == pytest.approx(station.level_measured, abs=1e-6)
        assert moved != level
        clock = await read(driver, IR, 18, 2)
        assert clock[0] << 16 | clock[1] == int(station.time.timestamp())
        name = await read(driver, IR, 100, 16)
        text = b"".join(struct.pack(">H", w) for w in name).rstrip(b"\0").decode()
        assert text == station.design.name
        contacts = await read(driver, DI, 0, 8)
        assert contacts[0] == int(station.mains_ok)
    finally:
        await context.aclose()


async def test_writes_change_the_process(simulator: Simulator) -> None:
    driver, context = await client(simulator.ports[0])
    station = simulator.stations[0]
    try:
        await driver.write(HR, 0, [150])
        assert station.setpoints.lead_start == pytest.approx(1.5)
        assert await read(driver, HR, 0, 1) == [150]
        # Remote control of pump 2: remote mode on, then run.
        await driver.write(COIL, 4, [1])
        await driver.write(COIL, 5, [1])
        simulator.advance(5)
        assert station.pumps[1].running
        running = await read(driver, DI, 8 + 4, 1)
        assert running == [1]
        await driver.write(COIL, 5, [0])
        simulator.advance(1)
        assert not station.pumps[1].running
        await driver.write(HR, 12, [int(Hoa.OFF)])
        assert station.pumps[2].hoa is Hoa.OFF
    finally:
        await context.aclose()


async def test_refused_write_answers_a_modbus_exception_and_changes_nothing(
    simulator: Simulator,
) -> None:
    driver, context = await client(simulator.ports[0])
    station = simulator.stations[0]
    try:
        with pytest.raises(DeviceException) as refused:
            await driver.write(HR, 3, [300])  # stop level above the lead start level
        assert refused.value.code == 3
        assert station.setpoints.stop == pytest.approx(0.8)
        with pytest.raises(DeviceException) as read_only:
            await driver.write(HR, 30, [0, 0])
        assert read_only.value.code == 2
        assert simulator.servers[0].writes_refused == 2
    finally:
        await context.aclose()


async def test_the_write_counter_counts_the_write_requests_applied(simulator: Simulator) -> None:
    server = simulator.servers[0]
    driver, context = await client(simulator.ports[0])
    try:
        await read(driver, HR, 0, 8)
        assert (server.writes, server.writes_refused) == (0, 0)  # reads are not writes
        await driver.write(HR, 0, [150, 250])  # two set points, one request
        await driver.write(COIL, 5, [1])  # acknowledged, then ignored: pump 2 is not remote
        with pytest.raises(DeviceException):
            await driver.write(HR, 3, [300])  # refused: stop above lead start
        assert (server.writes, server.writes_refused) == (2, 1)
    finally:
        await context.aclose()


async def test_a_single_write_is_answered_with_its_echo_even_when_the_plc_clears_it(
    simulator: Simulator,
) -> None:
    station = simulator.stations[0]
    station.trip(1)
    driver, context = await client(simulator.ports[0])
    try:
        await driver.write(COIL, 2, [1])  # pump 1 fault reset (FC 5): the PLC clears it
        assert not station.pumps[0].tripped
        assert await read(driver, COIL, 2, 1) == [0]
        await driver.write(COIL, 5, [1])  # pump 2 remote run, ignored: pump 2 is not remote
        assert await read(driver, COIL, 5, 1) == [0]
        assert station.remote_commands_rejected == 1
        assert simulator.servers[0].requests == 4  # the echo is no request of its own
    finally:
        await context.aclose()


async def test_a_write_lost_with_a_dropped_link_is_not_served_as_written() -> None:
    drop = FlakyProfile(drop=1.0, busy=0, delay=0, gateway_no_response=0, malformed=0)
    async with Simulator(options(flaky=drop)) as simulator:
        server = simulator.servers[0]
        async with foreign_client(simulator.ports[0]) as modbus:
            assert (await modbus.read_holding_registers(0, count=1)).registers == [180]
        server.faults.flaky = True
        driver, context = await client(simulator.ports[0], response_timeout=0.5)
        try:
            with pytest.raises(DriverError):
                await driver.write(HR, 0, [150])
        finally:
            await context.aclose()
        server.faults.flaky = False
        # pymodbus stored the values; the PLC did not apply them, and must not show them.
        async with foreign_client(simulator.ports[0]) as modbus:
            assert (await modbus.read_holding_registers(0, count=1)).registers == [180]
        assert simulator.stations[0].setpoints.lead_start == pytest.approx(1.8)
        assert server.writes == 0


async def test_the_float_set_point_is_written_whole_in_one_fc16_and_served_back(
    simulator: Simulator,
) -> None:
    server = simulator.servers[0]
    setpoints = simulator.stations[0].setpoints
    async with foreign_client(simulator.ports[0]) as modbus:
        assert (await modbus.read_holding_registers(32, count=2)).registers == cdab(3.5)
        written = await modbus.write_registers(32, cdab(4.25))  # FC 16, both words at once
        assert not written.isError(), written
        assert setpoints.high_pressure == 4.25
        assert (await modbus.read_holding_registers(32, count=2)).registers == cdab(4.25)
        assert server.writes == 1
        # Out of range, not a number, or one word alone (FC 6): refused, the old value stays.
        for value in (12.0, 0.4, float("nan")):
            refused = await modbus.write_registers(32, cdab(value))
            assert refused.exception_code == 3, (value, refused)
        for address, word in zip((32, 33), cdab(5.0), strict=True):
            half = await modbus.write_register(address, word)
            assert half.exception_code == 2, (address, half)
        assert (await modbus.read_holding_registers(32, count=2)).registers == cdab(4.25)
    assert setpoints.high_pressure == 4.25
    assert (server.writes, server.writes_refused) == (1, 5)


async def test_several_units_are_separate_stations_and_others_get_gateway_exception() -> None:
    async with Simulator(options(units=(1, 2))) as simulator:
        one, two = simulator.stations
        two.set_hoa(1, Hoa.OFF)
        simulator.advance(1)
        first, context1 = await client(simulator.ports[0], unit=1)
        second, context2 = await client(simulator.ports[0], unit=2)
        stray, context3 = await client(simulator.ports[0], unit=3)
        try:
            assert (await read(first, HR, 10, 1), await read(second, HR, 10, 1)) == ([2], [0])
            assert one.seed != two.seed
            with pytest.raises(DeviceException) as missing:
                await read(stray, IR, 0, 2)
            assert missing.value.code == 11
        finally:
            for context in (context1, context2, context3):
                await context.aclose()


async def test_several_stations_listen_on_their_own_ports() -> None:
    async with Simulator(options(stations=3)) as simulator:
        ports = simulator.ports
        assert len(set(ports)) == 3
        simulator.stations[2].set_hoa(1, Hoa.HAND)
        simulator.advance(1)
        driver, context = await client(ports[2])
        try:
            assert await read(driver, HR, 10, 1) == [int(Hoa.HAND)]
            assert "#3" in simulator.stations[2].design.name
        finally:
            await context.aclose()


async def test_the_clock_advances_simulated_time_by_speed() -> None:
    async with Simulator(options(speed=600, tick=0.02)) as simulator:
        station = simulator.stations[0]
        await asyncio.sleep(0.5)
        # 0.5 s of wall time at 600x is 300 simulated seconds; allow for a slow machine.
        assert 100 <= station.elapsed <= 400


async def test_offline_refuses_connections_for_the_period_then_recovers(
    simulator: Simulator,
) -> None:
    simulator.set_scenario(parse_scenario("offline:0.6s"))
    await asyncio.sleep(0.05)
    with pytest.raises(ConnectFailed):
        await client(simulator.ports[0], response_timeout=0.3)
    await asyncio.sleep(1.0)
    assert simulator.scenario.link is LinkMode.NONE
    driver, context = await client(simulator.ports[0])
    try:
        assert len(await read(driver, IR, 0, 2)) == 2
    finally:
        await context.aclose()


async def test_switching_away_from_offline_brings_the_link_back(simulator: Simulator) -> None:
    simulator.set_scenario(parse_scenario("offline:1h"))
    await asyncio.sleep(0.05)
    simulator.set_scenario(parse_scenario("normal"))
    await asyncio.sleep(0.1)
    driver, context = await client(simulator.ports[0])
    try:
        assert len(await read(driver, IR, 0, 2)) == 2
    finally:
        await context.aclose()


async def test_the_control_file_switches_scenarios(tmp_path: Path) -> None:
    control = tmp_path / "scenario"
    async with Simulator(options(control_file=control)) as simulator:
        control.write_text("# switched by the test\nstorm\n")
        for _ in range(40):
            await asyncio.sleep(0.1)
            if simulator.scenario.process is ProcessScenario.STORM:
                break
        assert simulator.stations[0].scenario is ProcessScenario.STORM
        control.write_text("no-such-scenario\n")
        await asyncio.sleep(1.2)
        assert simulator.scenario.process is ProcessScenario.STORM  # a typo changes nothing


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", (1,)), ("1,3", (1, 3)), ("1-4", (1, 2, 3, 4)), ("2-3, 9", (2, 3, 9))],
)
def test_unit_lists(text: str, expected: tuple[int, ...]) -> None:
    assert units_from_text(text) == expected


@pytest.mark.parametrize("text", ["a", "3-1", "1,,2", "1-x"])
def test_bad_unit_lists(text: str) -> None:
    with pytest.raises(ValueError, match=r"unit id|backwards"):
        units_from_text(text)
