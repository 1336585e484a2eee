"""`pstg check-config`: exit status, what goes to stdout and to stderr, and the real script."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pstg.cli import app

CASES = Path(__file__).parents[1] / "config" / "cases"
VALID = CASES / "valid_full" / "station.yaml"
THREE_ERRORS = CASES / "three_errors" / "station.yaml"

runner = CliRunner()


def check(*args: object) -> Result:
    return runner.invoke(app, ["check-config", *map(str, args)])


def test_valid_file_prints_a_summary_and_exits_0():
    result = check(VALID)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{VALID}: OK, station ps-01: 4 devices (1 disabled), 13 tags, 6 alarms, "
        "7 read requests per cycle\n"
    )
    assert result.stderr == ""


def test_plan_lists_each_device_with_its_requests_and_interval():
    result = check(VALID, "--plan")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "plc1 (modbus-tcp 127.0.0.1:5020 unit 1): 5 requests every 1s"
    assert "  holding_register 100..107 (8 registers): plc1.serial_number" in lines
    assert "flow1 (modbus-rtu-over-tcp 127.0.0.1:5021 unit 11): 1 request every 5s" in lines
    assert "meter1 (modbus-rtu /dev/ttyUSB0 unit 3, disabled): 1 request every 10s" in lines
    assert lines[-1].startswith(f"{VALID}: OK, station ps-01")


def test_invalid_file_prints_every_problem_to_stderr_and_exits_1():
    result = check(THREE_ERRORS)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[:3] == [
        f"{THREE_ERRORS}:10 devices[0].tags[0]: unknown key 'adress' (did you mean 'address'?)",
        f"{THREE_ERRORS}:15 devices[0].tags[1].type: unknown type 'flaot32' "
        "(did you mean 'float32'? expected one of: int16, uint16, int32, uint32, int64, uint64, "
        "float32, float64, bool, string)",
        f"{THREE_ERRORS}:16 devices[0].tags[2]: missing required key 'address'",
    ]
    assert lines[3] == f"error: 3 problems in {THREE_ERRORS}"
    assert len(lines) == 4


@pytest.mark.parametrize(
    ("case", "first_line"),
    [
        ("yaml_syntax_error", "station.yaml:8: YAML syntax error:"),
        ("empty_file", "station.yaml: the file is empty"),
        ("overlapping_tags", "station.yaml:10 devices[0].tags[2].address: tag 'pump1.tripped'"),
    ],
)
def test_each_kind_of_problem_exits_1(case, first_line, monkeypatch):
    monkeypatch.chdir(CASES / case)
    result = check("station.yaml")
    assert result.exit_code == 1
    assert result.stderr.startswith(first_line)


def test_missing_file_is_a_clear_one_liner(tmp_path):
    result = check(tmp_path / "station.yaml")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'station.yaml'}: file not found",
        f"error: 1 problem in {tmp_path / 'station.yaml'}",
    ]


def test_help_explains_the_argument_the_option_and_the_exit_status():
    result = runner.invoke(app, ["check-config", "--help"])
    assert result.exit_code == 0
    for words in ("FILE", "--plan", "read plan", "Exit status", "0 valid, 1 invalid"):
        assert words in result.stdout


def pstg_script() -> str | None:
    script = Path(sys.executable).parent / "pstg"
    return str(script) if script.exists() else shutil.which("pstg")


@pytest.mark.skipif(pstg_script() is None, reason="the pstg console script is not installed")
def test_console_script_end_to_end(tmp_path):
    script = pstg_script()
    assert script is not None
    ok = subprocess.run(
        [script, "check-config", str(VALID)], capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0, ok.stderr
    assert "OK, station ps-01" in ok.stdout

    bad = tmp_path / "station.yaml"
    bad.write_text("station: {id: ps-01}\ndevices:\n  - {id: plc1, driver: modbus-tpc}\n")
    failed = subprocess.run(
        [script, "check-config", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert f"{bad}:3 devices[0].driver: unknown driver 'modbus-tpc'" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_documented_example_and_plan_are_current(tmp_path, monkeypatch):
    # docs/configuration.md shows a full example and its `--plan` output; keep them true.
    docs = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    example = docs.split("```yaml\n", 1)[1].split("```", 1)[0]
    shown = docs.split("$ pstg check-config station.yaml --plan\n", 1)[1].split("```", 1)[0]
    (tmp_path / "station.yaml").write_text(example)
    monkeypatch.chdir(tmp_path)
    result = check("station.yaml", "--plan")
    assert result.exit_code == 0, result.output
    assert result.stdout == shown


def test_the_file_may_also_be_given_with_c_as_for_every_other_command(tmp_path, monkeypatch):
    by_option = check("-c", VALID)
    assert by_option.exit_code == 0, by_option.output
    assert by_option.stdout == check(VALID).stdout
    assert check(VALID, "-c", VALID).exit_code == 0  # the same file twice is one file
    both = check(VALID, "-c", THREE_ERRORS)
    assert both.exit_code == 2
    assert "two files given" in both.output
    monkeypatch.chdir(VALID.parent)  # without either: ./station.yaml, like the other commands
    assert check().stdout.startswith("station.yaml: OK, station ps-01")


def test_command_blocks_are_reported_like_every_other_problem(monkeypatch):
    # Field, tag and station problems of `command` blocks, each with its line (issue 12).
    folder = CASES / "command_station_checks"
    monkeypatch.chdir(folder)
    result = check("station.yaml")
    assert result.exit_code == 1
    expected = (folder / "expected.txt").read_text().splitlines()
    assert result.stderr.splitlines() == [
        *expected,
        f"error: {len(expected)} problems in station.yaml",
    ]
    assert "devices[0].tags[3].command.max: tag 'sp1' cannot be written 7000" in result.stderr
    monkeypatch.chdir(CASES / "command_blocks")
    assert check("station.yaml").exit_code == 0


def test_the_seeded_config_with_its_command_blocks_passes(tmp_path):
    config = tmp_path / "station.yaml"
    assert runner.invoke(app, ["seed", "-o", str(config)]).exit_code == 0
    assert "command: {pulse: true" in config.read_text()
    result = check(config)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{config}: OK, station ls-01")
