"""Limits read from tags: the alarm follows the PLC's set point; a bad limit tag holds the last
good limit and raises `<tag>.limit_source`; the held limit survives a restart."""

from __future__ import annotations

import json

import pytest

from pstg.alarms import AlarmEngine, AlarmState
from pstg.alarms.rules import RuleError
from tests.alarms.support import at, bad, engine, good, states

S = AlarmState
LEVEL, SETPOINT = "wet_well.level", "setpoint.high_level"
HIGH = {"tag": LEVEL, "kind": "high", "limit": {"tag": SETPOINT}, "deadband": 0.05}


def test_the_alarm_follows_the_set_point() -> None:
    eng = engine(HIGH)
    out = eng.process([good(LEVEL, 0, 2.8), good(SETPOINT, 0, 3.0)])
    out += eng.process([good(LEVEL, 1, 2.9)])
    out += eng.process([good(SETPOINT, 2, 2.85)])  # lowered under the level: raised at once
    out += eng.process([good(SETPOINT, 3, 3.2)])  # raised far above it: cleared at once
    assert states(out) == [(2, S.UNACK, "activated"), (3, S.RTN_UNACK, "cleared")]
    assert eng.get("wet_well.level.high").rule.describe() == f"{LEVEL} high >= {SETPOINT}"


def test_before_the_first_good_limit_nothing_is_compared() -> None:
    eng = engine(HIGH)
    assert eng.process([good(LEVEL, 0, 4.5), bad(SETPOINT, 0)]) == []
    assert eng.get("wet_well.level.high").value == 4.5
    (raised,) = eng.process([good(SETPOINT, 1, 3.0)])
    assert (raised.alarm_id, raised.state) == ("wet_well.level.high", S.UNACK)


def test_a_bad_limit_tag_holds_the_last_good_limit_and_raises_its_limit_source_alarm() -> None:
    eng = engine(HIGH)
    eng.process([good(SETPOINT, 0, 3.0), good(LEVEL, 0, 2.0)])
    assert eng.process([bad(SETPOINT, 1)]) == []
    (source,) = eng.process([bad(SETPOINT, 31)])  # after 30 s of bad reads
    assert (source.alarm_id, source.state) == ("setpoint.high_level.limit_source", S.UNACK)
    rule = eng.get("setpoint.high_level.limit_source").rule
    assert (rule.kind, rule.tag, rule.priority) == ("bad_quality", SETPOINT, "medium")
    assert "wet_well.level.high holds the last good limit" in rule.message
    # the held limit still works
    (raised,) = eng.process([good(LEVEL, 32, 3.0)])
    assert (raised.alarm_id, raised.state) == ("wet_well.level.high", S.UNACK)
    out = eng.process([good(SETPOINT, 33, 3.02)])  # readable again, a little higher
    assert [(t.alarm_id, t.state) for t in out] == [
        ("setpoint.high_level.limit_source", S.RTN_UNACK)
    ]  # 3.0 is within the deadband below the new limit: the alarm holds
    (cleared,) = eng.process([good(SETPOINT, 34, 3.2)])  # 3.0 is now below 3.2 - 0.05
    assert (cleared.alarm_id, cleared.state) == ("wet_well.level.high", S.RTN_UNACK)


def test_one_limit_source_alarm_per_tag_however_many_alarms_use_it() -> None:
    eng = engine(
        HIGH,
        {"id": "hh", "tag": LEVEL, "kind": "high_high", "limit": {"tag": SETPOINT}},
        {"tag": "pump1.current", "kind": "out_of_band", "low": 5, "high": {"tag": "rated"}},
    )
    ids = [alarm.id for alarm in eng.alarms()]
    assert ids[-2:] == ["setpoint.high_level.limit_source", "rated.limit_source"]
    message = eng.get("setpoint.high_level.limit_source").rule.message
    assert "wet_well.level.high, hh hold the last good limit" in message


def test_an_alarm_may_not_take_the_id_of_a_limit_source() -> None:
    with pytest.raises(RuleError, match=r"setpoint.high_level.limit_source"):
        engine(HIGH, {"id": "setpoint.high_level.limit_source", "tag": "x", "kind": "bad_quality"})


def test_the_held_limit_survives_a_restart() -> None:
    eng = engine(HIGH)
    eng.process([good(SETPOINT, 0, 2.5), good(LEVEL, 0, 2.0)])
    saved = json.loads(json.dumps(eng.snapshot()))
    after: AlarmEngine = engine(HIGH)
    after.restore(saved, at(10))
    # the set point is unreadable after the restart: the saved limit still applies
    after.process([bad(SETPOINT, 11)])
    raised = [t for t in after.process([good(LEVEL, 12, 2.6)]) if t.alarm_id.endswith("high")]
    assert [t.state for t in raised] == [S.UNACK]


def test_a_limit_that_moves_while_the_value_is_unknown_changes_nothing() -> None:
    eng = engine(HIGH)
    eng.process([good(SETPOINT, 0, 3.0), good(LEVEL, 0, 2.9), bad(LEVEL, 1)])
    assert eng.process([good(SETPOINT, 2, 2.0)]) == []
