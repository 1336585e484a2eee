"""The overview's picture is found in the config by naming and units, not drawn for the
simulator: the seeded station, and a station named differently."""

from pstg.config.models import StationConfig
from pstg.console.picture import picture_of
from pstg.simulator.seed import SeedOptions, seed_config_text
from pstg.station import load_station_text


def test_the_seeded_station_gives_its_well_pumps_and_signals():
    config = load_station_text(seed_config_text(SeedOptions(port=15020)))
    picture = picture_of(config)

    assert picture.level is not None
    assert picture.level.tag == "wet_well.level"
    assert (picture.level.low, picture.level.high) == (0.0, 5.0)
    setpoints = {mark.tag for mark in picture.level.marks if mark.kind == "setpoint"}
    assert {"setpoint.lead_start", "setpoint.stop", "setpoint.high_level"} <= setpoints
    limits = {(mark.tag or mark.value, mark.priority) for mark in picture.level.marks
              if mark.kind == "limit"}  # fmt: skip
    # The high and low alarms follow the PLC's set points; the high-high one is a constant.
    assert limits == {
        ("setpoint.low_level", "medium"),
        ("setpoint.high_level", "high"),
        (3.4, "critical"),
    }
    assert [pump.name for pump in picture.pumps] == ["pump1", "pump2", "pump3"]
    pump = picture.pumps[0]
    bits = {bit.label: bit.abnormal for bit in pump.bits}
    assert bits["Tripped"] == 1.0
    assert bits["Running"] is None
    assert bits["Available"] == 0.0
    assert {item.tag for item in pump.values} >= {"pump1.current", "pump1.power", "pump1.flow"}
    assert {item.tag for item in pump.commands} == {
        "pump1.hoa",
        "pump1.remote_mode",
        "pump1.remote_run",
        "pump1.fault_reset",
    }
    signals = {signal.tag: signal.abnormal for signal in picture.signals}
    assert signals["station.mains_ok"] == 0.0
    assert signals["station.door_open"] == 1.0
    assert "station.discharge_pressure" in {item.tag for item in picture.measurements}


def test_another_naming_finds_what_it_can_and_leaves_out_the_rest():
    config = StationConfig.model_validate({
        "station": {"id": "ps-9", "name": "Riverside"},
        "devices": [{"id": "rtu", "tags": [
            {"name": "sump.level", "source": "input_register", "address": 0, "unit": "ft",
             "range": [0, 20], "description": "Sump level"},
            {"name": "p1.running", "source": "discrete_input", "address": 0},
            {"name": "p1.amps", "source": "input_register", "address": 1, "unit": "A",
             "description": "P1 current"},
            {"name": "outflow", "source": "input_register", "address": 2, "unit": "gpm"},
        ]}],
        "alarms": [{"tag": "sump.level", "kind": "high", "limit": 15, "priority": "high"}],
    })  # fmt: skip
    picture = picture_of(config)

    assert picture.station == "Riverside"
    assert picture.level is not None
    assert picture.level.tag == "sump.level"
    assert [(mark.kind, mark.value) for mark in picture.level.marks] == [("limit", 15.0)]
    assert [pump.label for pump in picture.pumps] == ["Pump 1"]
    assert [item.tag for item in picture.pumps[0].values] == ["p1.amps"]
    assert [item.tag for item in picture.measurements] == ["outflow"]
