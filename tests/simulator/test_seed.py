"""`pstg seed`'s command blocks: one on every writable point, and what they let through is what
the simulated PLC accepts (at the ends of each range through a real Modbus client on
127.0.0.1, and value by value in-process for the ordering of the levels)."""

import struct

import pytest

from pstg.config.models import CommandConfig, TagConfig
from pstg.model import RegisterTable
from pstg.simulator.process import LEVEL_ORDER, Hoa, PumpStation, StationDesign
from pstg.simulator.registers import ILLEGAL_VALUE, RegisterMap, WriteRefused
from pstg.simulator.runner import Simulator
from tests.simulator.conftest import foreign_client, options
from tests.simulator.test_registers import seeded_config

HR = RegisterTable.HOLDING_REGISTER
DESIGN = StationDesign()
LEVEL_REGISTERS = ("lead_start", "lag_start", "standby_start", "stop", "high_level", "low_level")
"""The level set points in holding registers 0..5, so one FC 16 request can write them all."""


def seeded_tags() -> dict[str, TagConfig]:
    return {tag.name: tag for tag in seeded_config().devices[0].tags}


def command(name: str) -> CommandConfig:
    block = seeded_tags()[name].command
    assert block is not None, name
    return block


def counts(value: float) -> int:
    """A level in the registers' counts of 0.01 m."""
    return round(value * 100)


def limits(key: str) -> tuple[int, int]:
    block = command(f"setpoint.{key}")
    assert block.min is not None
    assert block.max is not None
    return counts(block.min), counts(block.max)


def all_levels_at(end: int) -> dict[str, int]:
    """Every level set point at the low (0) or high (1) end of its seeded range, in counts."""
    return {key: limits(key)[end] for key in LEVEL_ORDER}


def registers(levels: dict[str, int]) -> list[int]:
    return [levels[key] for key in LEVEL_REGISTERS]


def cdab(value: float) -> list[int]:
    high, low = struct.unpack(">HH", struct.pack(">f", value))
    return [low, high]


def test_every_writable_point_has_a_command_block_and_no_other_tag_has_one() -> None:
    writable = {p.name for p in RegisterMap(DESIGN).points if p.writable}
    commanded = {name for name, tag in seeded_tags().items() if tag.command is not None}
    assert commanded == writable


def test_the_level_set_points_carry_the_plc_ordering_as_interlocks() -> None:
    for index, key in enumerate(LEVEL_ORDER):
        block = command(f"setpoint.{key}")
        assert block.role == "engineer"
        assert block.mode == "sbo"
        assert block.readback.tolerance == 0.01  # one count of the register
        expected = []
        if index > 0:
            expected.append((f"setpoint.{LEVEL_ORDER[index - 1]}", "below"))
        if index < len(LEVEL_ORDER) - 1:
            expected.append((f"setpoint.{LEVEL_ORDER[index + 1]}", "above"))
        found = [(i.tag, i.comparison) for i in block.interlocks]
        assert found == expected, key
        assert all(i.operand == "value" for i in block.interlocks), key


def test_selectors_and_pump_commands() -> None:
    pumps = range(1, DESIGN.pump_count + 1)
    assert command("station.lead_select").values == {n: f"Pump {n}" for n in pumps}
    assert command("station.lead_select").role == "operator"
    high_pressure = command("setpoint.high_pressure")
    assert (high_pressure.mode, high_pressure.role) == ("direct", "engineer")
    for n in pumps:
        hoa = command(f"pump{n}.hoa")
        assert hoa.values == {int(h): h.name.capitalize() for h in Hoa}
        assert hoa.role == "operator"
        remote_mode = command(f"pump{n}.remote_mode")
        assert [(i.tag, i.operand) for i in remote_mode.interlocks] == [(f"pump{n}.auto", 1)]
        assert remote_mode.readback.tag == f"pump{n}.remote"
        remote_run = command(f"pump{n}.remote_run")
        assert [(i.tag, i.operand) for i in remote_run.interlocks] == [
            (f"pump{n}.auto", 1),
            (f"pump{n}.remote", 1),
        ]
        assert remote_run.readback.tag == f"pump{n}.running"
        assert remote_run.readback.timeout > DESIGN.start_delay + 1  # and a poll
        assert remote_run.min_interval > 0
        reset = command(f"pump{n}.fault_reset")
        assert reset.pulse
        assert (reset.readback.tag, reset.readback.equals) == (f"pump{n}.tripped", 0)


async def test_each_seeded_range_end_is_accepted_and_one_count_beyond_is_refused() -> None:
    """Through pymodbus's client: both ends of every range are written and read back; one
    count beyond is refused with exception 3. The other levels sit at the same end (all low,
    or all high), where they leave the most room, so "refused" holds whatever they are."""
    async with Simulator(options()) as simulator, foreign_client(simulator.ports[0]) as modbus:
        for end, beyond in ((0, -1), (1, +1)):
            levels = all_levels_at(end)
            written = await modbus.write_registers(0, registers(levels))
            assert written.exception_code == 0, (levels, written)
            served = await modbus.read_holding_registers(0, count=len(LEVEL_REGISTERS))
            assert served.registers == registers(levels)
            for key in LEVEL_ORDER:
                outside = {**levels, key: levels[key] + beyond}
                if outside[key] < 0:
                    continue  # below 0 m: a uint16 cannot even say it
                refused = await modbus.write_registers(0, registers(outside))
                assert refused.exception_code == ILLEGAL_VALUE, (key, outside)

        starts = command("setpoint.max_starts_per_hour")
        assert (starts.min, starts.max) == (1, 60)
        for value, code in ((1, 0), (60, 0), (0, ILLEGAL_VALUE), (61, ILLEGAL_VALUE)):
            answer = await modbus.write_register(6, value)
            assert answer.exception_code == code, value

        pressure = command("setpoint.high_pressure")
        assert pressure.min is not None
        assert pressure.max is not None
        limits_and_codes: tuple[tuple[float, int], ...] = (
            (pressure.min, 0),
            (pressure.max, 0),
            (pressure.min - 0.01, ILLEGAL_VALUE),
            (pressure.max + 0.01, ILLEGAL_VALUE),
        )
        for pressure_bar, code in limits_and_codes:
            answer = await modbus.write_registers(32, cdab(pressure_bar))
            assert answer.exception_code == code, pressure_bar
        assert simulator.stations[0].setpoints.high_pressure == pressure.max  # the last taken

        lead_select = command("station.lead_select").values
        hoa = command("pump1.hoa").values
        assert lead_select is not None
        assert hoa is not None
        for address, allowed in ((8, lead_select), (10, hoa)):
            for value in range(max(allowed) + 2):
                answer = await modbus.write_register(address, value)
                assert answer.exception_code == (0 if value in allowed else ILLEGAL_VALUE)


BASES: dict[str, dict[str, int] | str] = {
    "defaults": {
        key: counts(value)
        for key, value in zip(LEVEL_ORDER, (0.6, 0.8, 1.8, 2.2, 2.6, 3.0), strict=True)
    },
    "all low": "low",
    "all high": "high",
    "spread": dict(zip(LEVEL_ORDER, (40, 120, 150, 150, 300, 420), strict=True)),
}


@pytest.mark.parametrize("base", list(BASES))
def test_the_seeded_interlocks_let_through_only_what_the_plc_accepts(base: str) -> None:
    """Every level set point, every value from 0 to 5.05 m, against set points `base`: what
    the seeded range and interlocks allow, the PLC accepts. The one thing the PLC accepts and
    the seed does not: a lag or standby start equal to the start before it (an interlock's
    `above`/`below` are strict)."""
    chosen = BASES[base]
    levels: dict[str, int] = (
        all_levels_at(0 if chosen == "low" else 1) if isinstance(chosen, str) else chosen
    )
    station = PumpStation(DESIGN)
    register_map = RegisterMap(DESIGN)
    register_map.write(station, HR, 0, registers(levels))
    only_the_plc: list[tuple[str, int]] = []
    for key in LEVEL_ORDER:
        block = command(f"setpoint.{key}")
        low, high = limits(key)
        address = LEVEL_REGISTERS.index(key)
        for value in range(0, 506):
            allowed = low <= value <= high and all(
                holds(levels[i.tag.removeprefix("setpoint.")], i.comparison, value)
                for i in block.interlocks
            )
            if accepts(register_map, station, address, value):
                register_map.write(station, HR, 0, registers(levels))  # back to the base
                if not allowed:
                    only_the_plc.append((key, value))
            else:
                assert not allowed, (key, value)
    for key, value in only_the_plc:
        index = LEVEL_ORDER.index(key)
        neighbours = {LEVEL_ORDER[index - 1]: levels[LEVEL_ORDER[index - 1]]}
        neighbours[LEVEL_ORDER[index + 1]] = levels[LEVEL_ORDER[index + 1]]
        equal_to = {other for other, level in neighbours.items() if level == value}
        assert equal_to & MAY_BE_EQUAL.get(key, set()), (key, value)


MAY_BE_EQUAL = {
    "lead_start": {"lag_start"},
    "lag_start": {"lead_start", "standby_start"},
    "standby_start": {"lag_start"},
}
"""Neighbours the PLC lets a start level equal (two pumps starting together)."""


def accepts(register_map: RegisterMap, station: PumpStation, address: int, value: int) -> bool:
    """Whether the PLC takes `value` in holding register `address` (refusals must be code 3)."""
    try:
        register_map.write(station, HR, address, [value])
    except WriteRefused as refused:
        if refused.code != ILLEGAL_VALUE:
            raise
        return False
    return True


def holds(live: int, comparison: str, commanded: int) -> bool:
    """An interlock that compares a live set point with the value commanded."""
    return live < commanded if comparison == "below" else live > commanded
