"""command_failed: the outcome of operated commands raises and clears an alarm, a late read-back
clears it too, and the state survives a restart; through the service it is journaled."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.alarms import AlarmEngine, AlarmState
from pstg.alarms.service import AlarmService, journal
from pstg.alarms.tables import alarm_states
from pstg.config.models import StationConfig
from pstg.model import Event, EventKind
from pstg.storage.catalog import sync_catalog
from pstg.storage.schema import events
from tests.alarms.support import at, bad, engine, good, states

S = AlarmState
RUN = "pump2.remote_run"
RUNNING = "pump2.running"
START = "setpoint.lead_start"
RUN_ALARM = "pump2.remote_run.command_failed"
START_ALARM = "setpoint.lead_start.command_failed"


def station(**start_alarm: Any) -> StationConfig:
    """A remote run read back on the running feedback, and a set point read back on itself
    within 0.01 m; `start_alarm` adds keys to the set point's alarm (e.g. on_delay)."""
    return StationConfig.model_validate(
        {
            "station": {"id": "ps-01"},
            "devices": [
                {
                    "id": "plc1",
                    "tags": [
                        {"name": RUN, "source": "coil", "address": 0, "writable": True,
                         "command": {"readback": {"tag": RUNNING, "timeout": "15s"}}},
                        {"name": RUNNING, "source": "discrete_input", "address": 0},
                        {"name": START, "source": "holding_register", "address": 0,
                         "type": "float32", "writable": True,
                         "command": {"min": 0, "max": 5, "readback": {"tolerance": 0.01}}},
                    ],
                }
            ],
            "alarms": [
                {"tag": RUN, "kind": "command_failed", "priority": "high",
                 "message": "Pump 2 did not follow a remote command"},
                {"tag": START, "kind": "command_failed", **start_alarm},
            ],
        }
    )  # fmt: skip


@pytest.mark.parametrize("state", ["not_confirmed", "failed"])
def test_a_command_not_followed_or_failed_raises_the_alarm(state: str) -> None:
    eng = AlarmEngine(station())
    (raised,) = eng.command_result(RUN, state, 1, at(0))
    assert (raised.alarm_id, raised.state, raised.active, raised.value) == (
        RUN_ALARM,
        S.UNACK,
        True,
        1.0,
    )
    assert eng.get(START_ALARM).state is S.NORMAL  # another tag's alarm is not touched


def test_a_refused_or_confirmed_command_raises_nothing() -> None:
    eng = AlarmEngine(station())
    assert eng.command_result(RUN, "device_refused", 1, at(0)) == []
    assert eng.command_result(RUN, "confirmed", 1, at(1)) == []
    assert eng.get(RUN_ALARM).state is S.NORMAL


def test_a_refused_command_leaves_a_raised_alarm_as_it_is() -> None:
    eng = AlarmEngine(station())
    eng.command_result(RUN, "not_confirmed", 1, at(0))
    assert eng.command_result(RUN, "device_refused", 0, at(5)) == []
    assert eng.get(RUN_ALARM).active is True


def test_a_later_confirmed_command_clears_it() -> None:
    eng = AlarmEngine(station())
    eng.command_result(RUN, "failed", 1, at(0))
    (cleared,) = eng.command_result(RUN, "confirmed", 1, at(30))
    assert (cleared.state, cleared.active) == (S.RTN_UNACK, False)


def test_the_feedback_reaching_the_value_clears_it() -> None:
    eng = AlarmEngine(station())
    eng.command_result(RUN, "not_confirmed", 1, at(0))
    assert eng.process([good(RUNNING, 1, 0)]) == []  # not yet
    assert eng.process([good(RUN, 2, 1)]) == []  # the command tag is not the read-back
    (cleared,) = eng.process([good(RUNNING, 3, 1)])  # the pump started late
    assert states([cleared]) == [(3.0, S.RTN_UNACK, "cleared")]


def test_the_tag_itself_within_the_tolerance_clears_it() -> None:
    eng = AlarmEngine(station())
    eng.command_result(START, "not_confirmed", 2.5, at(0))
    assert eng.process([good(START, 1, 2.52)]) == []  # 0.02 away: outside 0.01
    (cleared,) = eng.process([good(START, 2, 2.495)])
    assert cleared.state is S.RTN_UNACK


def test_values_alone_raise_nothing() -> None:
    eng = AlarmEngine(station())
    out = eng.process([good(RUNNING, 0, 0), good(START, 0, 9.0), bad(RUNNING, 1), bad(START, 1)])
    assert out == []
    assert eng.command_result("pump1.remote_run", "not_confirmed", 1, at(2)) == []  # no rule


def test_a_bad_read_back_changes_nothing() -> None:
    eng = AlarmEngine(station(on_delay="5s"))
    eng.command_result(RUN, "not_confirmed", 1, at(0))
    assert eng.process([bad(RUNNING, 1)]) == []
    assert eng.get(RUN_ALARM).active is True
    # nor does it drop a raise waiting for its delay: the value is unknown, the failure is not
    eng.command_result(START, "not_confirmed", 2.5, at(0))
    assert eng.process([bad(START, 1)]) == []
    assert states(eng.tick(at(5))) == [(5.0, S.UNACK, "activated")]


def test_the_on_delay_holds_the_alarm_back() -> None:
    eng = AlarmEngine(station(on_delay="5s"))
    assert eng.command_result(START, "not_confirmed", 2.5, at(0)) == []
    assert eng.tick(at(4.9)) == []
    assert states(eng.tick(at(5))) == [(5.0, S.UNACK, "activated")]


def test_following_within_the_on_delay_raises_nothing() -> None:
    eng = AlarmEngine(station(on_delay="5s"))
    eng.command_result(START, "not_confirmed", 2.5, at(0))
    assert eng.process([good(START, 2, 2.5)]) == []
    eng.command_result(START, "failed", 3.0, at(10))
    assert eng.command_result(START, "confirmed", 3.0, at(12)) == []
    assert eng.tick(at(30)) == []


def test_the_lifecycle_applies_as_for_every_kind() -> None:
    eng = AlarmEngine(station(off_delay="10s"))
    eng.command_result(START, "not_confirmed", 2.5, at(0))
    acked = eng.acknowledge(START_ALARM, "olga", "calling the PLC man", at(1))
    assert acked.state is S.ACKED
    assert eng.process([good(START, 2, 2.5)]) == []  # followed, but the off-delay runs
    assert states(eng.tick(at(12))) == [(12.0, S.NORMAL, "cleared")]


def test_the_expected_value_survives_a_restart() -> None:
    before = AlarmEngine(station())
    before.command_result(START, "not_confirmed", 2.5, at(0))
    after = AlarmEngine(station())
    after.restore(json.loads(json.dumps(before.snapshot())), at(100))
    assert after.get(START_ALARM).active is True
    assert after.process([good(START, 101, 2.0)]) == []  # still not followed
    (cleared,) = after.process([good(START, 102, 2.5)])
    assert (cleared.state, cleared.reason) == (S.RTN_UNACK, "cleared")


def test_the_first_read_back_after_a_restart_clears_with_reason_restored() -> None:
    before = AlarmEngine(station())
    before.command_result(START, "failed", 2.5, at(0))
    after = AlarmEngine(station())
    after.restore(json.loads(json.dumps(before.snapshot())), at(100))
    (cleared,) = after.process([good(START, 101, 2.5)])
    assert (cleared.state, cleared.reason) == (S.RTN_UNACK, "restored")


def test_a_raise_waiting_for_its_delay_starts_it_over_after_a_restart() -> None:
    before = AlarmEngine(station(on_delay="5s"))
    before.command_result(START, "not_confirmed", 2.5, at(0))
    after = AlarmEngine(station(on_delay="5s"))
    after.restore(json.loads(json.dumps(before.snapshot())), at(100))
    assert after.tick(at(100)) == []
    assert after.tick(at(104.9)) == []
    assert states(after.tick(at(105))) == [(105.0, S.UNACK, "restored")]


def test_an_unknown_command_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown command state 'timeout'"):
        AlarmEngine(station()).command_result(RUN, "timeout", 1, at(0))


def test_without_a_station_the_tag_reads_itself_back_exactly() -> None:
    eng = engine({"tag": RUN, "kind": "command_failed"})
    rule = eng.get(RUN_ALARM).rule
    assert (rule.readback, rule.tolerance) == (RUN, 0.0)
    assert rule.describe() == f"{RUN} command not followed by {RUN}"
    eng.command_result(RUN, "not_confirmed", 1, at(0))
    (cleared,) = eng.process([good(RUN, 1, 1)])
    assert cleared.state is S.RTN_UNACK


def test_a_station_rule_knows_its_read_back_and_tolerance() -> None:
    eng = AlarmEngine(station())
    assert eng.get(RUN_ALARM).rule.describe() == f"{RUN} command not followed by {RUNNING}"
    assert eng.get(START_ALARM).rule.describe() == (
        f"{START} command not followed by {START} ± 0.01"
    )
    assert {RUNNING, START} <= eng.watched_tags()


async def test_the_service_journals_stores_and_announces_the_transition(engine: Engine) -> None:
    config = station()
    station_id = sync_catalog(engine, config).station_id
    announced: list[Event] = []
    service = AlarmService(engine, station_id, AlarmEngine(config), on_stored=announced.extend)
    (raised,) = service.command_result(RUN, "not_confirmed", 1.0, at(0))
    await service.flush()
    rows = journal(engine, station_id, start=at(-1), end=at(60))
    assert [(r["alarm_id"], r["state"], r["value"], r["priority"]) for r in rows] == [
        (RUN_ALARM, "unacknowledged", 1.0, "high")
    ]
    assert rows[0]["message"] == "Pump 2 did not follow a remote command"
    with engine.connect() as connection:
        stored = connection.execute(
            sa.select(events.c.kind, events.c.source).where(events.c.station_id == station_id)
        ).all()
        snapshot = connection.execute(
            sa.select(alarm_states.c.snapshot).where(alarm_states.c.alarm_id == RUN_ALARM)
        ).scalar_one()
    assert (EventKind.ALARM.value, RUN_ALARM) in stored
    assert [(e.kind, e.source) for e in announced] == [(EventKind.ALARM, RUN_ALARM)]
    assert (snapshot["expected"], snapshot["raw"]) == (1.0, True)
    # and a restarted service has it back, still waiting for the pump
    restarted = AlarmService(engine, station_id, AlarmEngine(config))
    restarted.load(at(100))
    assert restarted.engine.get(RUN_ALARM).state is S.UNACK
    assert raised.state is S.UNACK
