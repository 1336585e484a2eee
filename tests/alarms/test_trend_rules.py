"""Rules on how a value behaves over time: rate_of_change, frozen, run_too_long, out_of_band."""

from __future__ import annotations

import json
from typing import Any

from pstg.alarms import AlarmEngine, AlarmState, Transition
from tests.alarms.support import at, bad, engine, good, states, stream

S = AlarmState
LEVEL = "wet_well.level"


def restarted(before: AlarmEngine, seconds: float, *rules: dict[str, Any]) -> AlarmEngine:
    after = engine(*rules)
    after.restore(json.loads(json.dumps(before.snapshot())), at(seconds))
    return after


# --- rate_of_change ---------------------------------------------------------------------

RISING = {"tag": LEVEL, "kind": "rate_of_change", "limit": 0.3, "per": "1m", "deadband": 0.1}
FALLING = {"tag": LEVEL, "kind": "rate_of_change", "limit": -0.3, "per": "1m"}


def ramp(start: float, per_second: float, seconds: int) -> list[float | None]:
    return [start + per_second * n for n in range(seconds)]


def test_rising_faster_than_the_limit_fires_once_a_whole_window_shows_it() -> None:
    eng = engine(RISING)
    out = stream(eng, LEVEL, ramp(1.0, 0.006, 120))  # 0.36 m a minute
    # the first rate comes 60 s in, when the samples span a minute
    assert states(out) == [(60, S.UNACK, "activated")]
    assert eng.get("wet_well.level.rate_of_change").value == 0.36


def test_it_clears_past_the_deadband_and_a_falling_level_does_not_count() -> None:
    eng = engine(RISING)
    values = ramp(1.0, 0.006, 61) + ramp(1.366, 0.0035, 60) + ramp(1.576, -0.01, 60)
    out = stream(eng, LEVEL, values)
    # 0.21 a minute is within the deadband (0.3 - 0.1): it holds; falling clears it
    assert [t.state for t in out] == [S.UNACK, S.RTN_UNACK]
    assert (out[1].ts - at(0)).total_seconds() > 121


def test_a_negative_limit_watches_the_value_falling() -> None:
    eng = engine(FALLING, {**RISING, "id": "rising"})
    out = stream(eng, LEVEL, ramp(3.0, -0.006, 70))
    assert [(t.alarm_id, t.state) for t in out] == [("wet_well.level.rate_of_change", S.UNACK)]
    assert eng.get("wet_well.level.rate_of_change").value == -0.36


def test_the_on_delay_applies_to_the_rate() -> None:
    eng = engine({**RISING, "on_delay": "30s"})
    out = stream(eng, LEVEL, ramp(1.0, 0.006, 100))
    assert states(out) == [(90, S.UNACK, "activated")]


def test_a_bad_sample_empties_the_window() -> None:
    eng = engine(RISING)
    values: list[float | None] = [*ramp(1.0, 0.006, 50), None, *ramp(1.306, 0.006, 70)]
    out = stream(eng, LEVEL, values)
    assert states(out) == [(111, S.UNACK, "activated")]  # a whole minute after the gap


def test_noise_on_a_steady_level_is_no_rate() -> None:
    eng = engine(RISING)
    noise = [1.0 + (0.01 if n % 2 else -0.01) for n in range(600)]
    assert stream(eng, LEVEL, noise) == []


# --- frozen -----------------------------------------------------------------------------

FROZEN = {
    "tag": LEVEL,
    "kind": "frozen",
    "band": 0.005,
    "timeout": "5m",
    "while": {
        "any": [{"tag": "pump1.running", "equals": 1}, {"tag": "pump2.running", "equals": 1}]
    },
}


def feed(
    eng: AlarmEngine, seconds: int, level: float | None, p1: float, p2: float = 0
) -> list[Transition]:
    samples = [good("pump1.running", seconds, p1), good("pump2.running", seconds, p2)]
    samples.append(bad(LEVEL, seconds) if level is None else good(LEVEL, seconds, level))
    return eng.process(samples) + eng.tick(at(seconds))


def test_a_level_stuck_while_a_pump_runs_is_frozen_after_the_timeout() -> None:
    eng = engine(FROZEN)
    out: list[Transition] = []
    for n in range(400):
        out += feed(eng, n, 1.5 + (0.002 if n % 3 else 0), p1=1)
    assert states(out) == [(300, S.UNACK, "activated")]
    assert eng.get("wet_well.level.frozen").value == 1.5


def test_a_level_that_moves_is_not_frozen_and_clears_a_frozen_alarm() -> None:
    eng = engine(FROZEN)
    out: list[Transition] = []
    for n in range(1200):
        out += feed(eng, n, 1.5 - 0.002 * n, p1=1)  # pumped down: it moves
    assert out == []
    for n in range(1200, 1600):
        out += feed(eng, n, 0.5, p1=1)
    for n in range(1600, 1610):
        out += feed(eng, n, 0.5 + 0.002 * (n - 1599), p1=1)
    assert states(out) == [(1500, S.UNACK, "activated"), (1602, S.RTN_UNACK, "cleared")]


def test_a_still_level_with_the_pumps_stopped_is_no_fault() -> None:
    eng = engine(FROZEN)
    out: list[Transition] = []
    for n in range(1000):
        out += feed(eng, n, 1.2, p1=0)
    assert out == []
    # the clock starts when a pump does
    for n in range(1000, 1301):
        out += feed(eng, n, 1.2, p1=0, p2=1)
    assert states(out) == [(1300, S.UNACK, "activated")]
    # the pumps stopping clears nothing: the transmitter is still stuck
    for n in range(1301, 1400):
        out += feed(eng, n, 1.2, p1=0)
    assert len(out) == 1


def test_the_timer_needs_the_while_condition_without_a_break() -> None:
    eng = engine(FROZEN)
    out: list[Transition] = []
    for n in range(600):
        out += feed(eng, n, 1.2, p1=1 if n % 200 else 0)  # a stop every 200 s
    assert out == []


def test_bad_level_samples_restart_the_clock_and_drop_a_pending_raise() -> None:
    eng = engine({**FROZEN, "on_delay": "10s"})
    out: list[Transition] = []
    for n in range(305):
        out += feed(eng, n, 1.2, p1=1)
    out += feed(eng, 305, None, p1=1)
    for n in range(306, 620):
        out += feed(eng, n, 1.2, p1=1)
    assert states(out) == [(616, S.UNACK, "activated")]  # 306 + 5 min + 10 s


def test_without_while_a_still_value_is_enough() -> None:
    eng = engine({"tag": "x", "kind": "frozen", "band": 0, "timeout": "10s"})
    out = stream(eng, "x", [4.0] * 12)
    assert states(out) == [(10, S.UNACK, "activated")]


# --- run_too_long -----------------------------------------------------------------------

RUN = {"tag": "pump1.running", "kind": "run_too_long", "timeout": "30m", "priority": "medium"}


def test_a_run_past_the_timeout_fires_and_the_stop_clears_it() -> None:
    eng = engine(RUN)
    out = eng.process([good("pump1.running", 0, 0), good("pump1.running", 10, 1)])
    out += eng.tick(at(1809))
    assert out == []
    out += eng.tick(at(1810))
    assert eng.get("pump1.running.run_too_long").value == 1800.0
    out += eng.process([good("pump1.running", 2000, 0)])
    assert states(out) == [(1810, S.UNACK, "activated"), (2000, S.RTN_UNACK, "cleared")]


def test_short_runs_never_fire_and_a_bad_gap_keeps_the_clock() -> None:
    eng = engine(RUN)
    out: list[Transition] = []
    for cycle in range(10):
        start = cycle * 1000
        out += eng.process([good("pump1.running", start, 1)]) + eng.tick(at(start + 900))
        out += eng.process([good("pump1.running", start + 901, 0)])
    assert out == []
    eng.process([good("pump1.running", 20_000, 1), bad("pump1.running", 20_100)])
    (raised,) = eng.tick(at(21_800))  # the bad samples did not stop the clock
    assert raised.state is S.UNACK


def test_the_run_clock_survives_a_restart() -> None:
    eng = engine(RUN)
    eng.process([good("pump1.running", 0, 1)])
    eng.tick(at(1000))
    after = restarted(eng, 1200, RUN)
    assert after.tick(at(1900)) == []  # waits for a sample to show the pump still running
    (raised,) = after.process([good("pump1.running", 1901, 1)])  # 1901 s after the start
    assert raised.state is S.UNACK


def test_a_pump_stopped_during_the_restart_is_not_raised() -> None:
    eng = engine(RUN)
    eng.process([good("pump1.running", 0, 1)])
    after = restarted(eng, 1200, RUN)
    assert after.process([good("pump1.running", 2000, 0)]) == []
    assert after.process([good("pump1.running", 2001, 1)]) == []
    assert after.tick(at(3000)) == []


# --- out_of_band ------------------------------------------------------------------------

CURRENT = {
    "tag": "pump1.current",
    "kind": "out_of_band",
    "low": 15,
    "high": 35,
    "deadband": 1,
    "on_delay": "5s",
    "suppress_when": {"tag": "pump1.running", "value": 0},
}


def motor(
    eng: AlarmEngine, seconds: int, running: float, current: float | None
) -> list[Transition]:
    sample = (
        good("pump1.current", seconds, current)
        if current is not None
        else bad("pump1.current", seconds)
    )
    return eng.process([good("pump1.running", seconds, running), sample]) + eng.tick(at(seconds))


def test_a_current_above_or_below_the_band_fires_after_the_on_delay() -> None:
    for current in (36.0, 14.0):
        eng = engine(CURRENT)
        out: list[Transition] = []
        for n in range(10):
            out += motor(eng, n, 1, 25 if n < 2 else current)
        assert states(out) == [(7, S.UNACK, "activated")]


def test_the_band_clears_only_inside_by_the_deadband() -> None:
    eng = engine({**CURRENT, "on_delay": 0})
    out = motor(eng, 0, 1, 36) + motor(eng, 1, 1, 34.5) + motor(eng, 2, 1, 33.9)
    assert states(out) == [(0, S.UNACK, "activated"), (2, S.RTN_UNACK, "cleared")]


def test_a_stopped_motor_draws_no_current_and_is_no_alarm() -> None:
    eng = engine(CURRENT)
    out: list[Transition] = []
    for n in range(100):
        out += motor(eng, n, 0, 0)  # suppressed while stopped
    for n in range(100, 103):
        out += motor(eng, n, 1, 60)  # inrush at the start
    for n in range(103, 200):
        out += motor(eng, n, 1, 25)
    assert states(out) == [(0, S.SUPPRESSED, "suppressed"), (100, S.NORMAL, "unsuppressed")]


def test_bad_current_holds_and_ends_from_tags_follow_them() -> None:
    eng = engine({**CURRENT, "on_delay": 0, "high": {"tag": "pump1.rated_current"}})
    out = motor(eng, 0, 1, 30)  # no high end yet: nothing compared
    out += eng.process([good("pump1.rated_current", 1, 28)])  # 30 is past the new end
    out += motor(eng, 2, 1, None)  # bad: holds
    out += eng.process([good("pump1.rated_current", 3, 40)])  # last value unknown: no change
    out += motor(eng, 4, 1, 30)
    assert states(out) == [(1, S.UNACK, "activated"), (4, S.RTN_UNACK, "cleared")]
    saved = eng.snapshot()
    assert next(e for e in saved if e["id"] == "pump1.current.out_of_band")["high_limit"] == 40
