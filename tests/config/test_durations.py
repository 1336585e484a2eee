"""Durations in a station file, case by case from the shared table
(tests/support/time_cases.py): the same grammar as the API and the command line, with the
problem reported at its line like every other config problem."""

from __future__ import annotations

import json

import pytest

from pstg.config.loader import ConfigError, load_config
from tests.support.time_cases import DURATIONS, Accepted, Refused


@pytest.mark.parametrize("case", DURATIONS, ids=lambda case: repr(case.text))
def test_durations(case: Accepted | Refused, tmp_path) -> None:
    path = tmp_path / "station.yaml"
    path.write_text(
        "station: {id: ps-01}\n"
        "devices:\n"
        "  - id: plc1\n"
        "    port: 15020\n"
        f"    pause_between_requests: {json.dumps(case.text)}\n"
        "    tags: [{name: level, source: holding_register, address: 0}]\n"
    )
    if isinstance(case, Accepted):
        assert load_config(path).devices[0].pause_between_requests == case.value
        return
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [problem] = caught.value.problems
    assert (problem.line, problem.location) == (5, "devices[0].pause_between_requests")
    assert case.message in str(problem)


def test_numbers_are_seconds(tmp_path) -> None:
    path = tmp_path / "station.yaml"
    path.write_text(
        "station: {id: ps-01}\n"
        "devices: [{id: plc1, port: 15020, poll_interval: 2, timeout: 0.5,"
        " tags: [{name: level, source: holding_register, address: 0}]}]\n"
    )
    device = load_config(path).devices[0]
    assert (device.poll_interval, device.timeout) == (2.0, 0.5)
