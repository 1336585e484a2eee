"""Rules that need time to pass: comm loss, fail-to-start, starts per hour; and suppression."""

from __future__ import annotations

from pstg.alarms import AlarmEngine, AlarmState
from pstg.config.models import StationConfig
from pstg.model import QualityReason, Sample
from tests.alarms.support import at, bad, engine, good, states

S = AlarmState


def station_with_comm_loss(**alarm: object) -> StationConfig:
    return StationConfig.model_validate(
        {
            "station": {"id": "ps-01"},
            "devices": [
                {
                    "id": "plc1",
                    "tags": [
                        {"name": "a", "source": "coil", "address": 0},
                        {"name": "b", "source": "coil", "address": 1},
                    ],
                },
                {
                    "id": "meter1",
                    "enabled": False,
                    "tags": [{"name": "m", "source": "coil", "address": 0}],
                },
            ],
            "alarms": [
                {"device": "plc1", "kind": "comm_loss", **alarm},
                {"device": "meter1", "kind": "comm_loss"},
            ],
        }
    )


def test_comm_loss_after_the_timeout_without_a_good_read() -> None:
    eng = AlarmEngine(station_with_comm_loss(timeout="10s"))
    assert eng.process([good("a", 0, 1), good("b", 0, 0)]) == []
    assert eng.process([bad("a", 1), bad("b", 1)]) == []
    assert eng.tick(at(9.9)) == []
    (raised,) = eng.tick(at(10))
    assert (raised.alarm_id, raised.state, raised.value) == ("plc1.comm_loss", S.UNACK, 10.0)
    assert eng.tick(at(20)) == []
    (cleared,) = eng.process([bad("a", 21), good("b", 21, 1)])  # one good read is enough
    assert (cleared.state, cleared.value) == (S.RTN_UNACK, 0.0)


def test_comm_loss_counts_from_the_first_call_when_the_device_never_answers() -> None:
    eng = AlarmEngine(station_with_comm_loss())  # default timeout 30 s
    assert eng.tick(at(0)) == []
    assert eng.process([bad("a", 1, QualityReason.COMM_FAILURE)]) == []
    assert eng.tick(at(29)) == []
    # samples alone raise it too, when their time is past the timeout
    (raised,) = eng.process([bad("a", 30, QualityReason.COMM_FAILURE)])
    assert raised.state is S.UNACK


def test_comm_loss_on_delay_adds_to_the_timeout() -> None:
    eng = AlarmEngine(station_with_comm_loss(timeout="10s", on_delay="5s"))
    eng.process([good("a", 0, 1)])
    assert eng.tick(at(10)) == []
    assert eng.tick(at(14)) == []
    assert [t.state for t in eng.tick(at(15))] == [S.UNACK]


def test_a_disabled_device_never_raises_comm_loss() -> None:
    eng = AlarmEngine(station_with_comm_loss())
    eng.tick(at(0))
    assert [t.alarm_id for t in eng.tick(at(3600))] == ["plc1.comm_loss"]
    assert eng.get("meter1.comm_loss").state is S.NORMAL


def fail_to_start(**extra: object) -> AlarmEngine:
    return engine(
        {
            "tag": "pump1.commanded",
            "kind": "fail_to_start",
            "feedback": "pump1.running",
            "timeout": "15s",
            **extra,
        }
    )


def pump(seconds: float, commanded: float | None, running: float | None) -> list[Sample]:
    return [
        bad("pump1.commanded", seconds)
        if commanded is None
        else good("pump1.commanded", seconds, commanded),
        bad("pump1.running", seconds)
        if running is None
        else good("pump1.running", seconds, running),
    ]


def test_a_pump_that_starts_in_time_raises_nothing() -> None:
    eng = fail_to_start()
    out = eng.process(pump(0, 0, 0)) + eng.process(pump(1, 1, 0)) + eng.tick(at(10))
    out += eng.process(pump(12, 1, 1)) + eng.tick(at(30))
    assert out == []


def test_fail_to_start_when_the_feedback_does_not_come_within_the_timeout() -> None:
    eng = fail_to_start()
    eng.process(pump(0, 0, 0))
    eng.process(pump(1, 1, 0))
    assert eng.tick(at(15.9)) == []
    (raised,) = eng.tick(at(16))
    assert (raised.alarm_id, raised.state) == ("pump1.commanded.fail_to_start", S.UNACK)
    eng.acknowledge(raised.alarm_id, "olga", None, at(17))
    # the command is dropped (the PLC gives up): the condition is gone
    (cleared,) = eng.process(pump(20, 0, 0))
    assert cleared.state is S.NORMAL


def test_fail_to_start_clears_when_the_pump_finally_runs() -> None:
    eng = fail_to_start()
    eng.process(pump(0, 1, 0))
    eng.tick(at(15))
    (cleared,) = eng.process(pump(18, 1, 1))
    assert cleared.state is S.RTN_UNACK


def test_fail_to_start_timer_needs_both_inputs_known() -> None:
    eng = fail_to_start()
    eng.process(pump(0, 1, None))  # feedback unknown: no timer
    assert eng.tick(at(60)) == []
    eng.process(pump(61, 1, 0))  # the timer starts now
    eng.process(pump(70, 1, None))  # and stops at the gap
    assert eng.tick(at(100)) == []
    eng.process(pump(101, 1, 0))
    assert [t.state for t in eng.tick(at(116))] == [S.UNACK]


def starts(limit: int = 2) -> AlarmEngine:
    return engine({"tag": "pump1.running", "kind": "starts_per_hour", "limit": limit})


def test_starts_per_hour_counts_rises_in_the_last_hour() -> None:
    eng = starts(limit=2)
    out = []
    # off/on every 10 minutes: starts at 10, 30 and 50 min
    for minute, running in [(0, 0), (10, 1), (20, 0), (30, 1), (40, 0), (50, 1), (55, 0)]:
        out += eng.process([good("pump1.running", minute * 60, running)])
    assert states(out) == [(50 * 60, S.UNACK, "activated")]
    assert eng.get("pump1.running.starts_per_hour").value == 3.0
    # the start at 10 min leaves the window at 70 min
    assert eng.tick(at(70 * 60 - 1)) == []
    (cleared,) = eng.tick(at(70 * 60))
    assert (cleared.state, cleared.value) == (S.RTN_UNACK, 2.0)


def test_starts_per_hour_does_not_count_the_first_value_or_gaps_as_starts() -> None:
    eng = starts(limit=0)
    assert eng.process([good("pump1.running", 0, 1)]) == []  # running when we arrived
    assert eng.process([bad("pump1.running", 1)]) == []
    assert eng.process([good("pump1.running", 2, 1)]) == []  # still the same run
    eng.process([good("pump1.running", 3, 0), bad("pump1.running", 4)])
    (raised,) = eng.process([good("pump1.running", 5, 1)])  # it started during the gap
    assert raised.state is S.UNACK


def suppressed_low() -> AlarmEngine:
    return engine(
        {
            "tag": "wet_well.level",
            "kind": "low",
            "limit": 0.6,
            "suppress_when": {"tag": "station.maintenance", "value": 1},
        }
    )


def test_suppression_hides_a_low_level_alarm_during_maintenance() -> None:
    eng = suppressed_low()
    out = eng.process([good("station.maintenance", 0, 0), good("wet_well.level", 0, 1.0)])
    out += eng.process([good("station.maintenance", 1, 1)])
    out += eng.process([good("wet_well.level", 2, 0.3)])  # pumped down for the visit
    out += eng.process([good("wet_well.level", 3, 1.0)])
    out += eng.process([good("station.maintenance", 4, 0)])
    assert states(out) == [(1, S.SUPPRESSED, "suppressed"), (4, S.NORMAL, "unsuppressed")]


def test_an_alarm_still_active_when_suppression_ends_is_annunciated() -> None:
    eng = suppressed_low()
    eng.process([good("station.maintenance", 0, 1), good("wet_well.level", 0, 0.3)])
    (released,) = eng.process([good("station.maintenance", 5, 0)])
    assert (released.state, released.active, released.reason) == (S.UNACK, True, "unsuppressed")


def test_suppression_stays_as_it_is_while_its_tag_is_bad() -> None:
    eng = suppressed_low()
    eng.process([good("station.maintenance", 0, 1)])
    assert eng.process([bad("station.maintenance", 1)]) == []
    assert eng.get("wet_well.level.low").state is S.SUPPRESSED
