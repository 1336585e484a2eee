"""compound rules: all/any of comparisons on several tags, in three-valued logic; and a
lifted suppression restarting the on-delay (the other way to write "running and no flow")."""

from __future__ import annotations

import json

import pytest

from pstg.alarms import AlarmEngine, AlarmState, Transition
from tests.alarms.support import at, bad, engine, good, states

S = AlarmState
GENERATOR = {
    "id": "station.generator_fail",
    "kind": "compound",
    "all": [
        {"tag": "station.mains_ok", "equals": False},
        {"tag": "station.generator_running", "equals": False},
    ],
    "on_delay": "60s",
    "priority": "critical",
}


def mains(
    eng: AlarmEngine, seconds: float, ok: float | None, generator: float | None
) -> list[Transition]:
    samples = [
        good(tag, seconds, value) if value is not None else bad(tag, seconds)
        for tag, value in (("station.mains_ok", ok), ("station.generator_running", generator))
    ]
    return eng.process(samples) + eng.tick(at(seconds))


def test_all_fires_after_its_on_delay_and_clears_when_one_term_fails() -> None:
    eng = engine(GENERATOR)
    out = mains(eng, 0, 1, 0)
    out += mains(eng, 10, 0, 0)  # mains lost, the generator not running yet
    out += mains(eng, 69, 0, 0)
    assert out == []
    out += eng.tick(at(70))
    out += mains(eng, 80, 0, 1)  # the generator finally runs
    assert states(out) == [(70, S.UNACK, "activated"), (80, S.RTN_UNACK, "cleared")]
    assert eng.get("station.generator_fail").value == 1.0  # terms holding


def test_a_generator_that_starts_within_the_delay_raises_nothing() -> None:
    eng = engine(GENERATOR)
    out = mains(eng, 0, 0, 0) + mains(eng, 30, 0, 1) + mains(eng, 200, 0, 1)
    out += mains(eng, 1800, 1, 1) + mains(eng, 2100, 1, 0)
    assert out == []


def test_a_bad_input_makes_the_condition_unknown_not_false() -> None:
    eng = engine(GENERATOR)
    mains(eng, 0, 0, 0)
    assert mains(eng, 30, 0, None) == []  # generator unreadable: the pending raise is dropped
    assert mains(eng, 61, 0, None) == []
    assert mains(eng, 62, 0, 0) == []  # known again: the delay starts over
    (raised,) = mains(eng, 122, 0, 0)
    assert raised.ts == at(122)
    # unknown while active: the alarm stays raised, nothing clears it
    assert mains(eng, 130, None, None) == []
    assert eng.get("station.generator_fail").active


def test_a_known_false_term_decides_all_even_when_another_is_unknown() -> None:
    eng = engine(GENERATOR)
    mains(eng, 0, 0, 0)
    mains(eng, 100, 0, 0)
    assert eng.get("station.generator_fail").state is S.UNACK
    (cleared,) = mains(eng, 101, 1, None)  # the mains are back: false, whatever the generator
    assert cleared.state is S.RTN_UNACK


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"a": 1, "b": 0}, True),
        ({"a": 0, "b": 0}, False),
        ({"a": None, "b": 1}, True),  # one true term decides any
        ({"a": None, "b": 0}, None),
    ],
)
def test_any_in_three_valued_logic(values: dict[str, float | None], expected: bool | None) -> None:
    eng = engine(
        {
            "id": "either",
            "kind": "compound",
            "any": [{"tag": "a", "above": 0.5}, {"tag": "b", "not_equals": 0}],
        }
    )
    eng.process([good("a", 0, 0), good("b", 0, 0)])
    samples = [bad(tag, 1) if v is None else good(tag, 1, v) for tag, v in values.items()]
    eng.process(samples)
    alarm = eng.get("either")
    if expected is None:
        assert alarm.state is S.NORMAL  # held as it was
    else:
        assert alarm.active is expected


def test_above_and_below_are_strict() -> None:
    eng = engine({"id": "x", "kind": "compound", "all": [{"tag": "a", "above": 2}]})
    assert eng.process([good("a", 0, 2)]) == []
    assert states(eng.process([good("a", 1, 2.01)])) == [(1, S.UNACK, "activated")]


def test_a_compound_alarm_restored_active_holds_until_its_terms_are_seen() -> None:
    eng = engine(GENERATOR)
    mains(eng, 0, 0, 0)
    mains(eng, 60, 0, 0)
    saved = json.loads(json.dumps(eng.snapshot()))
    after = engine(GENERATOR)
    after.restore(saved, at(100))
    assert after.process([good("station.mains_ok", 101, 0)]) == []  # one term: unknown yet
    assert after.get("station.generator_fail").state is S.UNACK
    (cleared,) = after.process([good("station.generator_running", 102, 1)])
    assert (cleared.state, cleared.reason) == (S.RTN_UNACK, "restored")


# --- a lifted suppression restarts the on-delay ------------------------------------------


def no_flow() -> AlarmEngine:
    return engine(
        {
            "tag": "pump1.flow",
            "kind": "low",
            "limit": 5,
            "on_delay": "20s",
            "suppress_when": {"tag": "pump1.running", "value": 0},
        }
    )


def pump(eng: AlarmEngine, seconds: float, running: float, flow: float) -> list[Transition]:
    out = eng.process([good("pump1.running", seconds, running), good("pump1.flow", seconds, flow)])
    return out + eng.tick(at(seconds))


def test_a_pump_start_does_not_raise_the_no_flow_alarm_that_held_while_it_stood() -> None:
    eng = no_flow()
    out = pump(eng, 0, 0, 0)
    out += pump(eng, 100, 0, 0)  # stood still long past the on-delay: active, suppressed
    assert eng.get("pump1.flow.low").active
    out += pump(eng, 101, 1, 0)  # starts; the flow comes up within the on-delay
    out += pump(eng, 110, 1, 3)
    out += pump(eng, 115, 1, 40)
    out += pump(eng, 200, 1, 40)
    assert states(out) == [(0, S.SUPPRESSED, "suppressed"), (101, S.NORMAL, "unsuppressed")]


def test_a_pump_that_runs_on_without_flow_is_raised_after_the_on_delay() -> None:
    eng = no_flow()
    out = pump(eng, 0, 0, 0) + pump(eng, 100, 0, 0)
    out += pump(eng, 101, 1, 0)
    out += pump(eng, 120, 1, 0)
    assert states(out)[-1] == (101, S.NORMAL, "unsuppressed")
    out += pump(eng, 121, 1, 0)  # 20 s after the start
    assert states(out)[-1] == (121, S.UNACK, "activated")


def test_an_alarm_without_on_delay_is_still_released_at_once() -> None:
    eng = engine(
        {
            "tag": "pump1.flow",
            "kind": "low",
            "limit": 5,
            "suppress_when": {"tag": "pump1.running", "value": 0},
        }
    )
    pump(eng, 0, 0, 0)
    (released,) = eng.process([good("pump1.running", 5, 1)])
    assert (released.state, released.active) == (S.UNACK, True)
