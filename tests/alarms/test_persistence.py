"""Alarm state across a restart: snapshot, JSON, restore, re-evaluation on the first values."""

from __future__ import annotations

import json

import pytest

from pstg.alarms import AlarmEngine, AlarmState, SnapshotError
from pstg.config.models import StationConfig
from tests.alarms.support import at, engine, good

S = AlarmState
LEVEL = "wet_well.level"
RULES = (
    {"tag": LEVEL, "kind": "high_high", "limit": 3.4},
    {"tag": LEVEL, "kind": "high", "limit": 3.0, "deadband": 0.1},
    {"tag": LEVEL, "kind": "low", "limit": 0.6},
    {"tag": "pump1.tripped", "kind": "discrete", "value": 1},
    {"tag": "pump1.running", "kind": "starts_per_hour", "limit": 1},
)


def restarted(before: AlarmEngine, now_seconds: float, rules=RULES) -> AlarmEngine:
    """A new engine restored from `before`'s snapshot, through JSON as a file would hold it."""
    saved = json.loads(json.dumps(before.snapshot()))
    after = engine(*rules)
    after.restore(saved, at(now_seconds))
    return after


def lived() -> AlarmEngine:
    eng = engine(*RULES)
    eng.process([good(LEVEL, 0, 3.5), good("pump1.tripped", 0, 1)])  # high_high + high + trip
    eng.acknowledge("wet_well.level.high", "olga", "crew on the way", at(1))
    eng.shelve("wet_well.level.high_high", "olga", "known", 3600, at(2))
    eng.set_out_of_service("wet_well.level.low", "eng", "sensor swap", False, at(3))
    for seconds, running in [(10, 0), (20, 1), (30, 0), (40, 1)]:
        eng.process([good("pump1.running", seconds, running)])
    return eng


def test_states_come_back_as_they_were() -> None:
    before = lived()
    after = restarted(before, 100)
    for old, new in zip(before.alarms(), after.alarms(), strict=True):
        assert (new.id, new.state, new.active, new.value, new.since) == (
            old.id,
            old.state,
            old.active,
            old.value,
            old.since,
        )
        assert (new.shelved_until, new.shelved_by, new.user, new.comment) == (
            old.shelved_until,
            old.shelved_by,
            old.user,
            old.comment,
        )
    assert [a.state for a in after.alarms()] == [
        S.SHELVED,
        S.ACKED,
        S.OUT_OF_SERVICE,
        S.UNACK,
        S.UNACK,
    ]


def test_first_values_re_evaluate_with_reason_restored() -> None:
    after = restarted(lived(), 100)
    # the level is still high (inside the high alarm's deadband): no change; the trip reset
    out = after.process([good(LEVEL, 101, 2.95), good("pump1.tripped", 101, 0)])
    assert [(t.alarm_id, t.state, t.reason) for t in out] == [
        ("pump1.tripped.discrete", S.RTN_UNACK, "restored"),
    ]
    # later changes are ordinary ones again
    out = after.process([good(LEVEL, 102, 2.0), good("pump1.tripped", 102, 1)])
    assert [(t.alarm_id, t.state, t.reason) for t in out] == [
        ("wet_well.level.high", S.NORMAL, "cleared"),
        ("pump1.tripped.discrete", S.UNACK, "activated"),
    ]


def test_a_value_that_confirms_the_state_changes_nothing() -> None:
    after = restarted(lived(), 100)
    assert after.process([good(LEVEL, 101, 3.5), good("pump1.tripped", 101, 1)]) == []
    assert after.get("pump1.tripped.discrete").state is S.UNACK


def test_a_shelve_that_ran_out_during_the_restart_ends_at_the_first_tick() -> None:
    after = restarted(lived(), 7200)
    out = after.tick(at(7200))
    assert [(t.alarm_id, t.state, t.reason) for t in out] == [
        ("pump1.running.starts_per_hour", S.RTN_UNACK, "restored"),  # its starts left the window
        ("wet_well.level.high_high", S.UNACK, "shelve expired"),
    ]


def test_the_starts_window_survives_the_restart() -> None:
    after = restarted(lived(), 50)
    assert after.get("pump1.running.starts_per_hour").value == 2.0
    assert after.tick(at(51)) == []
    after.process([good("pump1.running", 52, 0)])
    # the first start (20 s) leaves the window an hour later; one left is not above the limit
    out = after.tick(at(3620))
    starts = [t for t in out if t.alarm_id == "pump1.running.starts_per_hour"]
    assert [(t.state, t.value) for t in starts] == [(S.RTN_UNACK, 1.0)]


def test_restore_skips_alarms_that_are_gone_or_changed_kind() -> None:
    saved = lived().snapshot()
    saved.append({"id": "removed.alarm", "kind": "high", "state": "unacknowledged"})
    after = engine(
        {"tag": "pump1.tripped", "kind": "discrete", "value": 1, "id": "wet_well.level.high"}
    )
    after.restore(saved, at(10))
    assert after.get("wet_well.level.high").state is S.NORMAL  # the saved one was a high alarm


def test_an_unreadable_snapshot_is_refused_clearly() -> None:
    saved = lived().snapshot()
    saved[1]["state"] = "panicking"
    with pytest.raises(SnapshotError, match=r"alarm 'wet_well\.level\.high': unreadable snapshot"):
        engine(*RULES).restore(saved, at(10))


def test_comm_loss_restored_active_clears_on_the_first_good_read() -> None:
    config = StationConfig.model_validate(
        {
            "station": {"id": "ps"},
            "devices": [{"id": "plc1", "tags": [{"name": "a", "source": "coil", "address": 0}]}],
            "alarms": [{"device": "plc1", "kind": "comm_loss", "timeout": "5s"}],
        }
    )
    before = AlarmEngine(config)
    before.tick(at(0))
    before.tick(at(5))
    assert before.get("plc1.comm_loss").state is S.UNACK
    after = AlarmEngine(config)
    after.restore(before.snapshot(), at(60))
    assert after.tick(at(61)) == []
    (cleared,) = after.process([good("a", 62, 1)])
    assert (cleared.state, cleared.reason) == (S.RTN_UNACK, "restored")
