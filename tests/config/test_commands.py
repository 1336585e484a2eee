"""The `command` block of a writable tag: its defaults, the role each kind of tag gets, and
refusals naming the tag and the key (the file-level cases are in cases/command_*)."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pstg.codec.checks import check_tag_codecs
from pstg.config.checks import check_station
from pstg.config.models import CommandConfig, StationConfig, TagConfig
from pstg.station import load_station_text


def tag(**fields: Any) -> TagConfig:
    return TagConfig.model_validate(
        {"name": "sp", "source": "holding_register", "address": 0, "writable": True, **fields}
    )


def station(*tags: dict[str, Any]) -> StationConfig:
    return StationConfig.model_validate(
        {"station": {"id": "ps-01"}, "devices": [{"id": "plc1", "tags": list(tags)}]}
    )


def test_an_empty_block_has_every_default():
    command = tag(command={}).command
    assert command is not None
    assert command.model_dump() == {
        "min": None,
        "max": None,
        "values": None,
        "mode": "sbo",
        "role": "engineer",  # a register that is not an enumeration: a set point
        "interlocks": [],
        "readback": {"tag": None, "timeout": 10.0, "tolerance": 0.0, "equals": None},
        "pulse": False,
        "min_interval": 0.0,
        "select_timeout": 30.0,
    }


def test_a_tag_without_a_block_has_no_commands():
    assert tag().command is None


@pytest.mark.parametrize(
    ("fields", "role"),
    [
        ({"source": "coil"}, "operator"),
        ({"type": "bool", "bit": 3}, "operator"),
        ({"command": {"values": {0: "Off", 1: "Hand", 2: "Auto"}}}, "operator"),
        ({"type": "float32"}, "engineer"),
        ({"type": "float32", "command": {"role": "operator"}}, "operator"),
        ({"source": "coil", "command": {"role": "admin"}}, "admin"),
    ],
)
def test_the_least_role_defaults_by_the_kind_of_tag(fields, role):
    fields.setdefault("command", {})
    command = tag(**fields).command
    assert command is not None
    assert command.role == role


def test_durations_take_the_project_grammar():
    command = CommandConfig.model_validate(
        {"min_interval": "5m", "select_timeout": "500ms", "readback": {"timeout": "1m"}}
    )
    assert (command.min_interval, command.select_timeout, command.readback.timeout) == (
        300.0,
        0.5,
        60.0,
    )


def test_an_interlock_knows_its_one_comparison():
    command = CommandConfig.model_validate(
        {"interlocks": [{"tag": "pump1.auto", "equals": True, "message": "not in Auto"}]}
    )
    interlock = command.interlocks[0]
    assert (interlock.comparison, interlock.operand) == ("equals", 1.0)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"writable": False, "command": {}}, ["'sp'", "writable: true"]),
        ({"command": {"min": 3, "max": 3}}, ["'sp'", "command.min 3", "max 3"]),
        ({"command": {"max": 1, "values": {0: "Off"}}}, ["'sp'", "command.values", "min/max"]),
        ({"command": {"pulse": True}}, ["'sp'", "command.pulse", "values"]),
        ({"command": {"pulse": True, "values": {0: "Off", 2: "On"}}}, ["'sp'", "with 1"]),
        ({"source": "coil", "command": {"min": 0}}, ["'sp'", "bool", "command.min/max"]),
        ({"type": "string", "length": 2, "command": {"values": {0: "a"}}}, ["'sp'", "text"]),
        (
            {"source": "coil", "command": {"pulse": True, "readback": {"tag": "tripped"}}},
            ["'sp'", "'tripped'", "readback.equals"],
        ),
    ],
)
def test_a_block_that_does_not_fit_its_tag_is_refused_naming_both(fields, words):
    with pytest.raises(ValidationError) as caught:
        tag(**fields)
    message = str(caught.value)
    assert all(word in message for word in words), message


def test_a_pulse_on_a_coil_or_an_enumeration_with_1_is_accepted():
    assert tag(source="coil", command={"pulse": True}).command is not None
    assert tag(command={"pulse": True, "values": {0: "Idle", 1: "Reset"}}).command is not None


def test_an_ordering_rule_compares_another_set_point_with_the_value_commanded():
    # The PLC's rule stop < start, on the start level being set: the stop level must stay
    # below the value commanded.
    config = station(
        {"name": "stop", "source": "holding_register", "address": 0},
        {"name": "start", "source": "holding_register", "address": 1, "writable": True,
         "command": {"min": 0, "max": 5, "interlocks": [
             {"tag": "stop", "below": "value", "message": "stop must stay below start"}]}},
    )  # fmt: skip
    assert check_station(config) == []
    interlock = config.devices[0].tags[1].command.interlocks[0]  # type: ignore[union-attr]
    assert (interlock.comparison, interlock.operand) == ("below", "value")


def test_the_value_commanded_is_no_operand_for_an_enumeration():
    config = station(
        {"name": "stop", "source": "holding_register", "address": 0},
        {"name": "hoa", "source": "holding_register", "address": 1, "writable": True,
         "command": {"values": {0: "Off", 2: "Auto"}, "interlocks": [
             {"tag": "stop", "above": "value", "message": "m"}]}},
    )  # fmt: skip
    [finding] = check_station(config)
    assert "needs a numeric set point" in finding.message


def test_a_pulse_confirmed_by_another_tag_says_what_that_tag_must_reach():
    command = tag(
        source="coil", command={"pulse": True, "readback": {"tag": "tripped", "equals": 0}}
    ).command
    assert command is not None
    assert command.readback.equals == 0


def test_references_across_devices_are_allowed():
    config = StationConfig.model_validate(
        {
            "station": {"id": "ps-01"},
            "devices": [
                {"id": "plc1", "tags": [
                    {"name": "run", "source": "coil", "address": 0, "writable": True,
                     "command": {"readback": {"tag": "running"},
                                 "interlocks": [{"tag": "auto", "equals": 1, "message": "m"}]}},
                ]},
                {"id": "plc2", "port": 503, "tags": [
                    {"name": "running", "source": "discrete_input", "address": 0},
                    {"name": "auto", "source": "discrete_input", "address": 1},
                ]},
            ],
        }
    )  # fmt: skip
    assert check_station(config) == []


def test_limits_are_checked_after_scaling_by_the_codec():
    config = station(
        {"name": "sp", "source": "holding_register", "address": 0, "type": "int16",
         "scale": 0.01, "writable": True, "command": {"min": -327, "max": 328}},
    )  # fmt: skip
    findings = list(check_tag_codecs(config, lambda loc: None))
    assert [(finding.loc[-1], "sp" in finding.message) for finding in findings] == [("max", True)]


def test_a_float_set_point_takes_any_finite_limits():
    config = station(
        {"name": "sp", "source": "holding_register", "address": 0, "type": "float32",
         "writable": True, "command": {"min": -1e6, "max": 1e6}},
    )  # fmt: skip
    assert list(check_tag_codecs(config, lambda loc: None)) == []


def test_the_documented_example_loads_with_the_roles_it_claims():
    docs = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    section = docs.split("### `devices[].tags[].command`", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = load_station_text(example, "configuration.md")
    roles = {
        tag.name: tag.command.role for tag in config.devices[0].tags if tag.command is not None
    }
    assert roles == {
        "pump1.start_level": "engineer",
        "pump1.remote_run": "operator",
        "pump1.fault_reset": "operator",
        "pump1.hoa": "operator",
    }
