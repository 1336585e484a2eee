"""What operators do: acknowledge, shelve (with expiry and a maximum), take out of service."""

from __future__ import annotations

import pytest

from pstg.alarms import ActionRefused, AlarmEngine, AlarmError, AlarmState, UnknownAlarm
from tests.alarms.support import at, engine, good

S = AlarmState
LEVEL = "wet_well.level"
HIGH = "wet_well.level.high"


def raised() -> AlarmEngine:
    eng = engine({"tag": LEVEL, "kind": "high", "limit": 3.0, "message": "Level high"})
    eng.process([good(LEVEL, 0, 3.5)])
    return eng


def test_acknowledge_records_user_and_comment() -> None:
    eng = raised()
    transition = eng.acknowledge(HIGH, "olga", "called the crew", at(5))
    assert transition.previous is S.UNACK
    assert transition.state is S.ACKED
    assert (transition.user, transition.comment, transition.reason) == (
        "olga",
        "called the crew",
        "acknowledged",
    )
    assert transition.value == 3.5
    alarm = eng.get(HIGH)
    assert (alarm.acked, alarm.user, alarm.comment, alarm.since) == (
        True,
        "olga",
        "called the crew",
        at(5),
    )


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ([], "alarm 'wet_well.level.high' cannot be acknowledged: it is normal: there is nothing"),
        (["raise", "ack"], "cannot be acknowledged: it is already acknowledged"),
        (["shelve"], "cannot be acknowledged: it is shelved; unshelve it first"),
        (["remove"], "cannot be acknowledged: it is out of service"),
    ],
)
def test_acknowledge_refuses_with_a_reason(setup: list[str], message: str) -> None:
    eng = engine({"tag": LEVEL, "kind": "high", "limit": 3.0})
    for step in setup:
        if step == "raise":
            eng.process([good(LEVEL, 0, 3.5)])
        elif step == "ack":
            eng.acknowledge(HIGH, "olga", None, at(1))
        elif step == "shelve":
            eng.shelve(HIGH, "olga", "noisy", 60, at(1))
        else:
            eng.set_out_of_service(HIGH, "olga", None, False, at(1))
    with pytest.raises(ValueError, match=message):
        eng.acknowledge(HIGH, "olga", None, at(2))


def test_unknown_alarm_ids_raise_a_clear_key_error() -> None:
    eng = raised()
    with pytest.raises(UnknownAlarm) as caught:
        eng.acknowledge("wet_well.level.hihg", "olga", None, at(1))
    assert str(caught.value) == "no alarm 'wet_well.level.hihg'"
    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, AlarmError)
    with pytest.raises(UnknownAlarm):
        eng.get("nope")


def test_shelving_expires_and_the_alarm_is_re_evaluated() -> None:
    eng = raised()
    shelved = eng.shelve(HIGH, "olga", "sensor being cleaned", 600, at(10))
    assert (shelved.previous, shelved.state, shelved.reason) == (S.UNACK, S.SHELVED, "shelved")
    alarm = eng.get(HIGH)
    assert (alarm.shelved_until, alarm.shelved_by) == (at(610), "olga")
    # clears and comes back while shelved: nothing shown, nothing journaled
    assert eng.process([good(LEVEL, 20, 2.0), good(LEVEL, 30, 3.6)]) == []
    assert eng.tick(at(609)) == []
    (expired,) = eng.tick(at(610))
    assert (expired.state, expired.reason, expired.user) == (S.UNACK, "shelve expired", None)
    alarm = eng.get(HIGH)
    assert (alarm.shelved_until, alarm.shelved_by) == (None, None)
    assert eng.tick(at(620)) == []


def test_an_alarm_that_cleared_while_shelved_comes_back_normal() -> None:
    eng = raised()
    eng.shelve(HIGH, "olga", None, 60, at(1))
    eng.process([good(LEVEL, 2, 2.0)])
    (unshelved,) = [eng.unshelve(HIGH, "olga", "done", at(3))]
    assert (unshelved.state, unshelved.reason, unshelved.user) == (S.NORMAL, "unshelved", "olga")
    assert eng.tick(at(100)) == []  # the old expiry is gone


def test_shelving_again_sets_a_new_expiry() -> None:
    eng = raised()
    eng.shelve(HIGH, "olga", None, 60, at(0))
    again = eng.shelve(HIGH, "piet", "longer", 600, at(30))
    assert (again.previous, again.state) == (S.SHELVED, S.SHELVED)
    assert eng.tick(at(60)) == []
    assert eng.get(HIGH).shelved_by == "piet"
    assert [t.reason for t in eng.tick(at(630))] == ["shelve expired"]


@pytest.mark.parametrize("duration", [0, -5, 8 * 3600 + 1])
def test_shelve_duration_must_be_positive_and_within_the_maximum(duration: float) -> None:
    eng = raised()
    with pytest.raises(ActionRefused, match="at most 8h"):
        eng.shelve(HIGH, "olga", None, duration, at(1))
    assert eng.get(HIGH).state is S.UNACK


def test_the_maximum_shelve_time_is_configurable() -> None:
    eng = engine({"tag": LEVEL, "kind": "high", "limit": 3.0}, max_shelve=900)
    eng.shelve(HIGH, "olga", None, 900, at(0))
    with pytest.raises(ActionRefused, match="at most 15m"):
        eng.shelve(HIGH, "olga", None, 901, at(1))


def test_out_of_service_ends_a_shelve_and_blocks_shelving() -> None:
    eng = raised()
    eng.shelve(HIGH, "olga", None, 60, at(1))
    removed = eng.set_out_of_service(HIGH, "eng", "transmitter replaced", False, at(2))
    assert (removed.previous, removed.state, removed.reason) == (
        S.SHELVED,
        S.OUT_OF_SERVICE,
        "out of service",
    )
    assert eng.get(HIGH).shelved_until is None
    assert eng.tick(at(100)) == []
    with pytest.raises(ActionRefused, match="cannot be shelved: it is out of service"):
        eng.shelve(HIGH, "olga", None, 60, at(3))
    with pytest.raises(ActionRefused, match="already out of service"):
        eng.set_out_of_service(HIGH, "eng", None, False, at(3))
    back = eng.set_out_of_service(HIGH, "eng", "back", True, at(4))
    assert (back.state, back.reason) == (S.UNACK, "returned to service")
    with pytest.raises(ActionRefused, match="cannot be returned to service: it is not out of"):
        eng.set_out_of_service(HIGH, "eng", None, True, at(5))


def test_unshelve_of_an_alarm_that_is_not_shelved_is_refused() -> None:
    with pytest.raises(ActionRefused, match="cannot be unshelved: it is not shelved"):
        raised().unshelve(HIGH, "olga", None, at(1))


def test_alarms_are_copies_in_config_order() -> None:
    eng = engine(
        {"tag": LEVEL, "kind": "high_high", "limit": 3.4},
        {"tag": LEVEL, "kind": "high", "limit": 3.0},
    )
    alarms = eng.alarms()
    assert [a.id for a in alarms] == ["wet_well.level.high_high", "wet_well.level.high"]
    alarms[0].state = S.UNACK
    assert eng.get("wet_well.level.high_high").state is S.NORMAL
    assert alarms[1].rule.describe() == "wet_well.level high >= 3"
