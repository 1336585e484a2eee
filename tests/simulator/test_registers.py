"""The register map: the image decodes, through the collector's codec and the seeded config, to
the model's values; writes reach the process or are refused with the right exception code."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pstg.codec import compile_tag
from pstg.config.models import StationConfig
from pstg.model import DataType, Quality, RegisterTable
from pstg.simulator.docs import register_map_markdown
from pstg.simulator.process import Hoa, ProcessScenario, PumpStation, StationDesign
from pstg.simulator.registers import (
    ILLEGAL_ADDRESS,
    ILLEGAL_VALUE,
    RegisterMap,
    WriteRefused,
)
from pstg.simulator.seed import SeedOptions, seed_config_text
from pstg.station import load_station_text

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
HR = RegisterTable.HOLDING_REGISTER
COIL = RegisterTable.COIL


def seeded_config() -> StationConfig:
    # Every layer's checks: a seeded file the gateway would refuse is a bug here.
    return load_station_text(seed_config_text(SeedOptions()), "station.yaml")


def station_in(scenario: ProcessScenario, hours: float, seed: int = 4) -> PumpStation:
    station = PumpStation(seed=seed, start=START)
    station.set_scenario(scenario)
    station.advance(hours * 3600)
    return station


STATES = {
    "start": lambda: PumpStation(seed=4, start=START),
    "normal, 5 h": lambda: station_in(ProcessScenario.NORMAL, 5),
    "storm, 1.5 h": lambda: station_in(ProcessScenario.STORM, 1.5),
    "pump fault, 2 h": lambda: station_in(ProcessScenario.PUMP_FAULT, 2),
    "power failure, 10 min": lambda: station_in(ProcessScenario.POWER_FAILURE, 1 / 6),
}


def test_seeded_config_is_valid_and_plans() -> None:
    config = seeded_config()
    device = config.devices[0]
    assert (device.host, device.port, device.unit_id) == ("127.0.0.1", 15020, 1)
    assert {tag.name for tag in device.tags} == {
        p.name for p in RegisterMap(StationDesign()).points
    }


@pytest.mark.parametrize("state", list(STATES))
def test_every_seeded_tag_decodes_to_the_model_value(state: str) -> None:
    station = STATES[state]()
    register_map = RegisterMap(station.design)
    image = register_map.image(station)
    config = seeded_config()
    device = config.devices[0]
    points = {p.name: p for p in register_map.points}
    for tag in device.tags:
        codec = compile_tag(tag, device)
        words = image[tag.source][tag.address : tag.address + codec.register_count]
        decoded = codec.decode(words)
        expected = points[tag.name].read(station)
        assert decoded.quality is Quality.GOOD, (tag.name, decoded)
        if isinstance(expected, str):
            assert decoded.value == expected, tag.name
        elif tag.data_type is DataType.FLOAT32:
            assert decoded.value == pytest.approx(float(expected), rel=1e-6, abs=1e-6), tag.name
        else:
            # Integers on the wire: the value within half a step of the scale.
            assert isinstance(decoded.value, float)
            assert abs(decoded.value - float(expected)) <= tag.scale / 2 + 1e-9, tag.name


def test_states_under_test_exercise_the_interesting_registers() -> None:
    storm = STATES["storm, 1.5 h"]()
    assert storm.high_level_alarm
    assert any(p.running for p in storm.pumps)
    fault = STATES["pump fault, 2 h"]()
    assert fault.pump_fault_alarm
    outage = STATES["power failure, 10 min"]()
    assert not outage.mains_ok
    assert outage.generator_running


def test_set_point_writes_change_the_controller() -> None:
    station = PumpStation(seed=1, start=START)
    register_map = RegisterMap(station.design)
    assert register_map.write(station, HR, 0, [150]) == ["setpoint.lead_start"]
    assert station.setpoints.lead_start == pytest.approx(1.5)
    # Several set points in one request are checked together: raising the stop level above
    # the old lead start is fine when lead start rises too.
    register_map.write(station, HR, 0, [250, 270, 290, 200])
    assert (station.setpoints.lead_start, station.setpoints.stop) == pytest.approx((2.5, 2.0))


def test_an_inconsistent_set_point_write_changes_nothing() -> None:
    station = PumpStation(seed=1, start=START)
    register_map = RegisterMap(station.design)
    before = (station.setpoints.lead_start, station.setpoints.stop)
    with pytest.raises(WriteRefused) as refused:
        register_map.write(station, HR, 3, [300])  # stop above lead start
    assert refused.value.code == ILLEGAL_VALUE
    assert "stop" in str(refused.value)
    assert (station.setpoints.lead_start, station.setpoints.stop) == before


@pytest.mark.parametrize(
    ("table", "address", "values", "code", "message"),
    [
        (HR, 30, [0, 0], ILLEGAL_ADDRESS, "not writable"),  # wet well area: read-only
        (HR, 32, [0], ILLEGAL_ADDRESS, "write them all"),  # half the float set point
        (HR, 33, [0x4040], ILLEGAL_ADDRESS, "not writable"),  # its high word alone
        (HR, 32, [0, 0x4140], ILLEGAL_VALUE, "high_pressure"),  # 12 bar: beyond PN 10
        (HR, 25, [1], ILLEGAL_ADDRESS, "not writable"),  # nothing there
        (HR, 7, [1, 2], ILLEGAL_ADDRESS, "not writable"),  # runs into an unmapped register
        (HR, 10, [7], ILLEGAL_VALUE, "selector position"),
        (HR, 8, [9], ILLEGAL_VALUE, "pump"),  # lead select: no pump 9
        (COIL, 3, [1], ILLEGAL_ADDRESS, "not writable"),  # the spare coil of pump 1
    ],
)
def test_refused_writes(
    table: RegisterTable, address: int, values: list[int], code: int, message: str
) -> None:
    station = PumpStation(seed=1, start=START)
    with pytest.raises(WriteRefused, match=message) as refused:
        RegisterMap(station.design).write(station, table, address, values)
    assert refused.value.code == code


def test_the_high_pressure_set_point_raises_its_status_bit() -> None:
    station = PumpStation(seed=1, start=START)
    register_map = RegisterMap(station.design)
    status = 14  # input register of the station status word; bit 11: high pressure
    assert not register_map.image(station)[RegisterTable.INPUT_REGISTER][status] >> 11 & 1
    register_map.write(station, HR, 32, [0, 0x3F80])  # 1.0 bar, CDAB: below the static head
    assert station.setpoints.high_pressure == 1.0
    assert station.high_pressure_alarm
    assert station.common_alarm
    assert register_map.image(station)[RegisterTable.INPUT_REGISTER][status] >> 11 & 1


def test_selector_lead_and_coil_writes_reach_the_pumps() -> None:
    station = PumpStation(seed=1, start=START)
    register_map = RegisterMap(station.design)
    register_map.write(station, HR, 11, [0])
    assert station.pumps[1].hoa is Hoa.OFF
    register_map.write(station, HR, 8, [3])
    assert station.lead_pump == 3
    register_map.write(station, COIL, 4, [1])  # pump 2 remote mode: but pump 2 is Off
    assert station.pumps[1].remote_mode
    register_map.write(station, COIL, 5, [1])
    assert not station.pumps[1].remote_run
    assert station.remote_commands_rejected == 1
    station.trip(1)
    register_map.write(station, COIL, 2, [1])  # pump 1 fault reset
    assert not station.pumps[0].tripped
    assert register_map.image(station)[COIL][2] == 0  # the reset coil reads back 0


def test_a_reading_past_its_type_is_served_as_the_invalid_pattern_and_decodes_bad() -> None:
    station = PumpStation(seed=1, start=START)
    register_map = RegisterMap(station.design)
    station.pumps[0].motor_temperature = 5000.0  # beyond int16 × 10
    words = register_map.image(station)[RegisterTable.INPUT_REGISTER]
    assert words[30 + 4] == 0x7FFF
    device = seeded_config().devices[0]
    tag = next(t for t in device.tags if t.name == "pump1.motor_temperature")
    assert compile_tag(tag, device).decode(words[34:35]).quality is Quality.BAD


def test_the_documented_register_map_is_the_served_one() -> None:
    docs = (ROOT / "docs" / "simulator.md").read_text(encoding="utf-8")
    assert register_map_markdown() in docs, (
        "docs/simulator.md is out of date: uv run python -m pstg.simulator.docs "
        "--update docs/simulator.md"
    )


def test_the_example_config_is_the_seeded_one() -> None:
    example = (ROOT / "examples" / "station.yaml").read_text(encoding="utf-8")
    assert example == seed_config_text(SeedOptions()), (
        "examples/station.yaml differs from `pstg seed` output: regenerate it with "
        "uv run pstg seed --force -o examples/station.yaml"
    )
