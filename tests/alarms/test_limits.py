"""Limit alarms on synthetic sample streams: limits, deadband, on/off delays, chattering."""

from __future__ import annotations

import math

import pytest

from pstg.alarms import AlarmState
from pstg.model import QualityReason
from tests.alarms.support import at, bad, engine, good, states, stream, uncertain

S = AlarmState
LEVEL = "wet_well.level"


def high(**extra: object) -> dict[str, object]:
    return {"tag": LEVEL, "kind": "high", "limit": 3.0, **extra}


@pytest.mark.parametrize(
    ("kind", "limit", "values", "expected"),
    [
        # the limit itself raises a high alarm; just under it does not
        ("high", 3.0, [2.9, 3.0], [(1, S.UNACK)]),
        ("high", 3.0, [2.9, 2.999], []),
        ("high_high", 3.4, [3.0, 3.5, 3.3], [(1, S.UNACK), (2, S.RTN_UNACK)]),
        ("low", 0.6, [1.0, 0.6, 0.7], [(1, S.UNACK), (2, S.RTN_UNACK)]),
        ("low", 0.6, [1.0, 0.61], []),
        ("low_low", 0.3, [0.5, 0.2, 0.31], [(1, S.UNACK), (2, S.RTN_UNACK)]),
    ],
)
def test_each_limit_kind(kind, limit, values, expected) -> None:
    eng = engine({"tag": LEVEL, "kind": kind, "limit": limit})
    got = [(t, s) for t, s, _ in states(stream(eng, LEVEL, values))]
    assert got == expected


def test_the_deadband_holds_a_high_alarm_until_the_value_is_back_past_it() -> None:
    eng = engine(high(deadband=0.1))
    values = [3.0, 2.95, 2.9, 2.91, 2.899]
    assert states(stream(eng, LEVEL, values)) == [
        (0, S.UNACK, "activated"),
        (4, S.RTN_UNACK, "cleared"),  # 2.9 is on the deadband's edge, 2.899 past it
    ]


def test_the_deadband_of_a_low_alarm_is_above_its_limit() -> None:
    eng = engine({"tag": LEVEL, "kind": "low", "limit": 0.6, "deadband": 0.05})
    values = [0.6, 0.64, 0.65, 0.651]
    assert states(stream(eng, LEVEL, values)) == [
        (0, S.UNACK, "activated"),
        (3, S.RTN_UNACK, "cleared"),
    ]


def test_the_deadband_does_not_widen_the_activation() -> None:
    # Inside the deadband but under the limit, a pending activation is cancelled.
    eng = engine(high(deadband=0.1, on_delay="5s"))
    values = [3.1, 3.1, 2.95, 2.95, 2.95, 2.95, 2.95, 2.95]
    assert stream(eng, LEVEL, values) == []


def test_the_on_delay_needs_the_condition_to_hold_continuously() -> None:
    eng = engine(high(on_delay="5s"))
    values = [3.5, 3.5, 3.5, 3.5, 2.0, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5]
    # interrupted at 4 s; from 5 s it holds and is raised at 10 s
    assert states(stream(eng, LEVEL, values)) == [(10, S.UNACK, "activated")]


def test_tick_raises_an_alarm_when_the_delay_ends_between_samples() -> None:
    eng = engine(high(on_delay="5s"))
    assert eng.process([good(LEVEL, 0, 3.5)]) == []
    assert eng.tick(at(4.9)) == []
    (transition,) = eng.tick(at(5))
    assert (transition.state, transition.value, transition.active) == (S.UNACK, 3.5, True)


def test_the_off_delay_needs_the_condition_gone_continuously() -> None:
    eng = engine(high(off_delay="3s"))
    values = [3.5, 2.0, 2.0, 3.5, 2.0, 2.0, 2.0, 2.0]
    assert states(stream(eng, LEVEL, values)) == [
        (0, S.UNACK, "activated"),
        (7, S.RTN_UNACK, "cleared"),  # gone from 4 s, 3 s later
    ]


def noisy_level(seconds: int, *, around: float, amplitude: float) -> list[float]:
    """A level hovering around a value with a fast ripple, as a sensor near a limit reads."""
    return [around + amplitude * math.sin(second * 2.1) for second in range(seconds)]


def test_a_value_hovering_at_the_limit_chatters_without_deadband_or_delays() -> None:
    eng = engine(high())
    transitions = stream(eng, LEVEL, noisy_level(120, around=3.0, amplitude=0.02))
    activations = [t for t in transitions if t.reason == "activated"]
    assert len(activations) > 20


def test_a_deadband_wider_than_the_ripple_stops_the_chatter() -> None:
    eng = engine(high(deadband=0.05))
    transitions = stream(eng, LEVEL, noisy_level(120, around=3.0, amplitude=0.02))
    assert [t.reason for t in transitions] == ["activated"]


def test_delays_stop_the_chatter_too() -> None:
    eng = engine(high(on_delay="5s", off_delay="5s"))
    transitions = stream(eng, LEVEL, noisy_level(120, around=3.0, amplitude=0.02))
    assert transitions == []
    # and once the level really rises, the alarm comes once
    rising = [*noisy_level(30, around=3.0, amplitude=0.02), *[3.2] * 10]
    eng = engine(high(on_delay="5s", off_delay="5s"))
    assert [t.reason for t in stream(eng, LEVEL, rising)] == ["activated"]


def test_bad_samples_neither_raise_nor_clear() -> None:
    eng = engine(high())
    transitions = stream(eng, LEVEL, [3.5, None, None, 3.5, None, 2.0])
    assert states(transitions) == [(0, S.UNACK, "activated"), (5, S.RTN_UNACK, "cleared")]
    assert eng.get("wet_well.level.high").value == 2.0


def test_a_bad_sample_cancels_a_pending_delay() -> None:
    # The condition cannot be said to have held through a gap in the readings.
    eng = engine(high(on_delay="3s"))
    transitions = stream(eng, LEVEL, [3.5, 3.5, None, 3.5, 3.5, 3.5, 3.5])
    assert states(transitions) == [(6, S.UNACK, "activated")]


def test_uncertain_values_still_count() -> None:
    # out of the engineering range is still a reading, and a high one at that
    eng = engine(high())
    (transition,) = eng.process([uncertain(LEVEL, 0, 6.5)])
    assert transition.state is S.UNACK


def test_string_values_and_other_tags_are_ignored() -> None:
    eng = engine(high())
    assert eng.process([good(LEVEL, 0, "n/a"), good("other.tag", 0, 10.0)]) == []
    assert eng.get("wet_well.level.high").value is None


def test_discrete_alarm_on_a_bit() -> None:
    eng = engine({"tag": "pump1.tripped", "kind": "discrete", "value": 1, "priority": "high"})
    transitions = stream(eng, "pump1.tripped", [0, 1, 1, None, 0])
    assert states(transitions) == [(1, S.UNACK, "activated"), (4, S.RTN_UNACK, "cleared")]


def test_discrete_alarm_on_zero_means_a_contact_that_opened() -> None:
    eng = engine({"tag": "station.mains_ok", "kind": "discrete", "value": 0, "on_delay": "5s"})
    transitions = stream(eng, "station.mains_ok", [1, 0, 0, 0, 0, 0, 0, 1])
    assert states(transitions) == [(6, S.UNACK, "activated"), (7, S.RTN_UNACK, "cleared")]


def test_bad_quality_alarm_uses_bad_samples_and_names_the_reason() -> None:
    eng = engine({"tag": LEVEL, "kind": "bad_quality", "on_delay": "2s"})
    out = eng.process([good(LEVEL, 0, 1.0), bad(LEVEL, 1, QualityReason.NO_READING)])
    out += eng.process([bad(LEVEL, 2, QualityReason.NO_READING)])
    assert out == []
    (raised,) = eng.process([bad(LEVEL, 3, QualityReason.NO_READING)])
    assert (raised.state, raised.value) == (S.UNACK, "no_reading")
    (cleared,) = eng.process([uncertain(LEVEL, 4, 6.5)])  # uncertain is not bad
    assert (cleared.state, cleared.value) == (S.RTN_UNACK, 6.5)
