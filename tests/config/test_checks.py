"""The config layer's whole-station checks on validated models, without YAML: locations, lines,
and what is left to the layers above."""

from collections.abc import Sequence
from typing import Any

from pstg.config.checks import Finding, check_station, refer_to
from pstg.config.models import StationConfig


def station(*devices: dict[str, Any], alarms: Sequence[dict[str, Any]] = ()) -> StationConfig:
    return StationConfig.model_validate(
        {"station": {"id": "ps-01"}, "devices": list(devices), "alarms": list(alarms)}
    )


def test_a_clean_station_has_no_findings():
    config = station({"id": "plc1", "tags": [{"name": "a", "source": "coil", "address": 0}]})
    assert check_station(config) == []


def test_drivers_codecs_and_request_limits_are_left_to_their_layers():
    # An unknown driver, a bool with scale, a tag wider than one request: none of them is the
    # config layer's to judge (pstg.drivers.checks and pstg.codec.checks are).
    config = station(
        {
            "id": "plc1",
            "driver": "opcua",
            "max_registers_per_request": 1,
            "tags": [
                {"name": "a", "source": "holding_register", "address": 0, "type": "float32"},
                {"name": "b", "source": "holding_register", "address": 2, "type": "bool",
                 "bit": 0, "scale": 2},
            ],
        }
    )  # fmt: skip
    assert check_station(config) == []


def test_findings_mention_lines_only_when_known():
    config = station(
        {"id": "plc1", "tags": [{"name": "a", "source": "coil", "address": 0}]},
        {"id": "plc2", "port": 5020, "tags": [{"name": "a", "source": "coil", "address": 0}]},
    )
    expected_loc = ("devices", 1, "tags", 0, "name")
    assert check_station(config) == [
        Finding(expected_loc, "duplicate tag name 'a' (devices[0].tags[0])")
    ]
    assert check_station(config, lambda loc: 7) == [
        Finding(expected_loc, "duplicate tag name 'a' (devices[0].tags[0], line 7)")
    ]


def test_refer_to_names_the_place_and_its_line_when_known():
    assert refer_to(("alarms", 2), lambda loc: None) == "alarms[2]"
    assert refer_to(("devices", 0, "tags", 1), lambda loc: 12) == "devices[0].tags[1], line 12"


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
