"""The loader's edges: files that cannot be read, odd YAML, and the shape of a problem."""

import gc
from pathlib import Path

import pytest

from pstg.config.checks import Finding
from pstg.config.errors import ConfigProblem, format_location
from pstg.config.loader import ConfigError, load_config, load_config_text
from pstg.model import DataType

MINIMAL = "station: {id: ps-01}\n"
CASES = Path(__file__).parent / "cases"


def problems_of(text: str, filename: str = "station.yaml") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, filename)
    return [str(problem) for problem in caught.value.problems]


def test_missing_file_is_one_problem_without_a_line(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [str(p) for p in caught.value.problems] == [f"{path}: file not found"]


def test_a_directory_is_not_a_config(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.problems[0].message == "is a directory, not a config file"


def test_non_utf8_names_the_line(tmp_path):
    path = tmp_path / "station.yaml"
    path.write_bytes(b"station:\n  id: ps-01\n  name: Station d\xe9part\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (problem,) = caught.value.problems
    assert problem.line == 3
    assert problem.message == "not valid UTF-8 (byte 0xe9); save the file as UTF-8"


def test_utf8_with_bom_and_non_ascii_text_load(tmp_path):
    path = tmp_path / "station.yaml"
    path.write_bytes("\ufeffstation: {id: ps-01, name: Station Départ}\n".encode())
    assert load_config(path).station.name == "Station Départ"


def test_problems_name_the_file_as_given(tmp_path, monkeypatch):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "station.yaml").write_text("station: {id: ps-01}\napi: {prot: 1}\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_config("site/station.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "site/station.yaml:2 api: unknown key 'prot' (did you mean 'port'?)"
    ]


def test_yaml_syntax_error_gives_the_line():
    assert problems_of("station:\n  id: ps-01\n  name: [unclosed\napi: {}\n") == [
        "station.yaml:4: YAML syntax error: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence that starts on line 3)"
    ]


def test_tab_indentation_is_a_syntax_error_with_a_line():
    (problem,) = problems_of("station:\n\tid: ps-01\n")
    assert problem.startswith("station.yaml:2: YAML syntax error:")


def test_two_documents_are_refused():
    (problem,) = problems_of("station: {id: a}\n---\nstation: {id: b}\n")
    assert problem.startswith("station.yaml:2: YAML syntax error: but found another document")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "station.yaml: the file is empty; a config needs at least 'station: {id: ...}'"),
        (
            "just words\n",
            "station.yaml:1: the top level must be a mapping of keys (station:, devices:, ...), "
            "got 'just words'",
        ),
        ("{}\n", "station.yaml:1: missing required key 'station'"),
    ],
)
def test_unusable_top_level(text, expected):
    assert problems_of(text) == [expected]


def test_every_problem_is_reported_in_line_order():
    text = (
        "alarms:\n"
        "  - {tag: a, kind: hihg, limit: 1}\n"  # 2
        "station: {id: ps-01}\n"
        "devices:\n"
        "  - id: plc1\n"
        "    port: 70000\n"  # 6
        "    tags:\n"
        "      - {name: a, source: coil, address: 0, bit: 2}\n"  # 8
    )
    lines = [problem.split(" ", 1)[0] for problem in problems_of(text)]
    assert lines == ["station.yaml:2", "station.yaml:6", "station.yaml:8"]


def test_missing_key_points_at_the_mapping_that_lacks_it():
    text = MINIMAL + "devices:\n  - id: plc1\n    tags:\n      - name: a\n        source: coil\n"
    assert problems_of(text) == [
        "station.yaml:5 devices[0].tags[0]: missing required key 'address'"
    ]


def test_yaml_values_arrive_as_plain_python_values():
    # 0x8000 is a ruamel HexInt and an anchored `true` a ScalarBoolean; pydantic sees plain ones.
    config = load_config_text(
        MINIMAL + "devices:\n"
        "  - id: plc1\n"
        "    enabled: &on true\n"
        "    stopbits: 2\n"
        "    tags:\n"
        "      - {name: t, source: holding_register, address: 0x10, sentinels: [0x8000]}\n"
        "      - {name: w, source: holding_register, address: 0x11, writable: *on}\n"
    )
    device = config.devices[0]
    assert device.enabled is True
    assert device.stopbits == 2
    assert device.tags[0].address == 16
    assert device.tags[0].sentinels == [0x8000]
    assert device.tags[1].writable is True


def test_valid_config_values():
    config = load_config_text(
        MINIMAL + "devices:\n"
        "  - id: plc1\n"
        "    poll_interval: 500ms\n"
        "    timeout: 2s\n"
        "    tags: [{name: level, source: input_register, address: 3, type: float32}]\n"
    )
    device = config.devices[0]
    assert (device.poll_interval, device.timeout) == (0.5, 2.0)
    assert device.tags[0].data_type is DataType.FLOAT32


def test_problem_and_error_text():
    with_line = ConfigProblem("station.yaml", 23, "devices[0].tags[4].type", "unknown type 'x'")
    assert str(with_line) == "station.yaml:23 devices[0].tags[4].type: unknown type 'x'"
    assert str(ConfigProblem("s.yaml", None, "", "file not found")) == "s.yaml: file not found"
    assert str(ConfigProblem("s.yaml", 1, "", "empty")) == "s.yaml:1: empty"
    error = ConfigError([with_line])
    assert str(error) == f"1 problem in the config:\n{with_line}"


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        ((), ""),
        (("station",), "station"),
        (("devices", 0, "tags", 4, "type"), "devices[0].tags[4].type"),
        (("devices", 1), "devices[1]"),
    ],
)
def test_format_location(loc, text):
    assert format_location(loc) == text


def test_a_control_character_is_a_syntax_error_with_a_line():
    assert problems_of(MINIMAL + "api: {port: 1\x00}\n") == [
        "station.yaml:2: YAML syntax error: special characters are not allowed (U+0000)"
    ]


def test_merge_keys_share_device_settings():
    config = load_config_text(
        MINIMAL + "devices:\n"
        "  - &gw {id: m1, driver: modbus-rtu-over-tcp, port: 5021, timeout: 2s}\n"
        "  - {<<: *gw, id: m2, unit_id: 2}\n"
    )
    merged = config.devices[1]
    assert (merged.id, merged.driver, merged.port, merged.timeout) == (
        "m2",
        "modbus-rtu-over-tcp",
        5021,
        2.0,
    )


def test_yaml_tags_are_ignored():
    assert load_config_text("station: {id: !local ps-01}\n").station.id == "ps-01"


def test_non_text_keys_are_named_at_their_mapping():
    text = MINIMAL + "devices:\n  - id: plc1\n    options: {1: 2}\n"
    assert problems_of(text) == ["station.yaml:4 devices[0].options: keys must be text, got 1"]


def test_the_config_layer_alone_leaves_drivers_and_codecs_to_the_checks_given():
    # `load_config` runs this layer's checks; the layers above pass theirs (pstg.station).
    text = MINIMAL + "devices:\n  - {id: plc1, driver: opcua}\n"
    assert load_config_text(text).devices[0].driver == "opcua"


def test_checks_given_are_reported_with_their_lines_after_the_layers_own():
    def no_opcua(config, line_of):
        for d, device in enumerate(config.devices):
            if device.driver == "opcua":
                yield Finding(("devices", d, "driver"), f"no opcua here (see line {line_of(())})")

    text = MINIMAL + "devices:\n  - id: plc1\n    driver: opcua\n  - {id: plc1}\n"
    assert problems_of_checked(text, [no_opcua]) == [
        "station.yaml:4 devices[0].driver: no opcua here (see line 1)",
        "station.yaml:5 devices[1].id: duplicate device id 'plc1' (devices[0], line 3)",
    ]


def problems_of_checked(text, checks):
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, checks=checks)
    return [str(problem) for problem in caught.value.problems]


def test_yaml_1_2_values_case_reads_as_yaml_1_2(monkeypatch):
    # cases/yaml_12_values: a BOM, hex, 0o octal, a leading zero that is decimal, underscores,
    # `no` as text, and a merge; both readers must give these values (test_fast_yaml).
    monkeypatch.chdir(CASES / "yaml_12_values")
    plc1, plc2 = load_config("station.yaml").devices
    assert (plc1.unit_id, plc2.unit_id) == (17, 15)
    assert [(tag.name, tag.address, tag.sentinels) for tag in plc1.tags] == [
        ("no", 16, []),
        ("level", 1000, [0x8000, 15]),
    ]
    assert (plc2.driver, plc2.host, plc2.port, plc2.timeout, plc2.tags) == (
        "modbus-tcp",
        "127.0.0.1",
        5020,
        2.0,
        [],
    )


def test_the_garbage_collector_runs_again_after_a_load_that_paused_it():
    # Loading pauses the cyclic collector (it costs a third of a big load); it must come back
    # whether the file loads or not, and stay off if the caller had turned it off.
    assert gc.isenabled()
    load_config_text(MINIMAL)
    assert gc.isenabled()
    with pytest.raises(ConfigError):
        load_config_text("station: {id: 'bad id'}\n")
    assert gc.isenabled()
    gc.disable()
    try:
        load_config_text(MINIMAL)
        assert not gc.isenabled()
    finally:
        gc.enable()
