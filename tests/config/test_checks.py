"""Whole-station checks on validated models, without YAML: locations and driver lookup."""

from collections.abc import Sequence
from typing import Any

from pstg.config.checks import BUILTIN_DRIVERS, Finding, check_station, known_drivers
from pstg.config.models import StationConfig


def station(*devices: dict[str, Any], alarms: Sequence[dict[str, Any]] = ()) -> StationConfig:
    return StationConfig.model_validate(
        {"station": {"id": "ps-01"}, "devices": list(devices), "alarms": list(alarms)}
    )


def test_the_registry_knows_the_builtin_drivers():
    assert known_drivers() >= BUILTIN_DRIVERS


def test_a_clean_station_has_no_findings():
    config = station({"id": "plc1", "tags": [{"name": "a", "source": "coil", "address": 0}]})
    assert check_station(config) == []


def test_drivers_can_be_given():
    config = station({"id": "plc1", "driver": "opcua"})
    assert check_station(config, drivers={"opcua"}) == []
    (finding,) = check_station(config, drivers={"modbus-tcp"})
    assert finding.loc == ("devices", 0, "driver")


def test_findings_mention_lines_only_when_known():
    config = station(
        {"id": "plc1", "tags": [{"name": "a", "source": "coil", "address": 0}]},
        {"id": "plc2", "port": 5020, "tags": [{"name": "a", "source": "coil", "address": 0}]},
    )
    expected_loc = ("devices", 1, "tags", 0, "name")
    assert check_station(config) == [
        Finding(expected_loc, "duplicate tag name 'a' (devices[0].tags[0])")
    ]
    assert check_station(config, line_of=lambda loc: 7) == [
        Finding(expected_loc, "duplicate tag name 'a' (devices[0].tags[0], line 7)")
    ]


def test_devices_on_different_links_may_differ():
    config = station(
        {"id": "a", "port": 502, "timeout": "1s"},
        {"id": "b", "port": 503, "timeout": "2s"},
        {"id": "c", "driver": "modbus-rtu", "serial_port": "/dev/ttyUSB0", "baudrate": 9600},
        {"id": "d", "driver": "modbus-rtu", "serial_port": "/dev/ttyUSB1", "baudrate": 19200},
    )
    assert check_station(config) == []


def test_string_tags_may_have_non_limit_alarms():
    config = station(
        {
            "id": "plc1",
            "tags": [
                {
                    "name": "m",
                    "source": "holding_register",
                    "address": 0,
                    "type": "string",
                    "length": 2,
                }
            ],
        },
        alarms=[{"tag": "m", "kind": "bad_quality"}],
    )
    assert check_station(config) == []
