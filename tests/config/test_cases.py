"""Station files and the problems they must produce, one folder per case.

`cases/<case>/station.yaml` is loaded from inside its folder, so problems read
`station.yaml:LINE location: message`; `cases/<case>/expected.txt` lists them in order, one per
line. A case without expected.txt must load cleanly. To add a case, add a folder.

Cases are loaded as the commands load them (`pstg.station.load_station`), with the checks of
every layer: the config's own, the codec's and the drivers'.
"""

from pathlib import Path

import pytest

from pstg.config.errors import ConfigError
from pstg.station import load_station

CASES = Path(__file__).parent / "cases"


def case_names() -> list[str]:
    return sorted(path.name for path in CASES.iterdir() if (path / "station.yaml").is_file())


@pytest.mark.parametrize("case", case_names())
def test_case(case, monkeypatch):
    folder = CASES / case
    expected_file = folder / "expected.txt"
    monkeypatch.chdir(folder)

    if not expected_file.exists():
        load_station("station.yaml")
        return

    expected = [line for line in expected_file.read_text().splitlines() if line.strip()]
    with pytest.raises(ConfigError) as caught:
        load_station("station.yaml")
    assert [str(problem) for problem in caught.value.problems] == expected


def test_every_check_has_a_case():
    # A guard against the folder quietly losing cases: these are the ones the checks rely on.
    assert {
        "valid_full",
        "three_errors",
        "yaml_syntax_error",
        "duplicate_names",
        "unknown_driver",
        "rtu_without_serial_port",
        "overlapping_tags",
        "address_past_end",
        "tag_too_large",
        "alarm_references",
        "shared_connection_mismatch",
        "command_blocks",
        "command_fields",
        "command_station_checks",
        "notification_checks",
        "notification_fields",
    } <= set(case_names())
