"""Scenario names as typed on the command line or into the control file."""

import pytest

from pstg.simulator.process import ProcessScenario
from pstg.simulator.scenarios import LinkMode, Scenario, parse_scenario


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("normal", Scenario()),
        ("storm", Scenario(ProcessScenario.STORM)),
        ("pump-fault", Scenario(ProcessScenario.PUMP_FAULT)),
        ("power-failure", Scenario(ProcessScenario.POWER_FAILURE)),
        ("generator-fail", Scenario(ProcessScenario.GENERATOR_FAIL)),
        ("ragging,flaky", Scenario(ProcessScenario.RAGGING, LinkMode.FLAKY)),
        ("transmitter-stuck", Scenario(ProcessScenario.TRANSMITTER_STUCK)),
        ("transmitter-fault", Scenario(ProcessScenario.TRANSMITTER_FAULT)),
        ("flaky", Scenario(link=LinkMode.FLAKY)),
        ("storm, flaky", Scenario(ProcessScenario.STORM, LinkMode.FLAKY)),
        ("offline", Scenario(link=LinkMode.OFFLINE, offline_seconds=30)),
        ("offline:2m", Scenario(link=LinkMode.OFFLINE, offline_seconds=120)),
    ],
)
def test_parse(text: str, expected: Scenario) -> None:
    assert parse_scenario(text) == expected
    assert parse_scenario(str(expected)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no scenario"),
        ("stormy", "unknown scenario 'stormy'; choose from normal, storm"),
        ("storm,normal", "two process scenarios"),
        ("flaky,offline", "two link faults"),
        ("storm:5m", "takes no argument"),
        ("offline:soon", "offline:soon"),
        ("offline:0s", "positive"),
    ],
)
def test_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_scenario(text)
