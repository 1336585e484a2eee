"""EEMUA 191 figures from transitions: rates, floods, standing, stale, chattering, top 10."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pstg.alarms import AlarmState, Transition, alarm_kpis
from pstg.alarms.kpi import is_activation
from tests.alarms.support import T0, at, engine, stream

S = AlarmState


def step(alarm_id: str, seconds: float, previous: S, state: S, active: bool) -> Transition:
    return Transition(alarm_id, at(seconds), previous, state, active, None, None, None, "test")


def raised(alarm_id: str, seconds: float) -> Transition:
    return step(alarm_id, seconds, S.NORMAL, S.UNACK, True)


def test_rates_per_ten_minutes_and_flood() -> None:
    journal = [raised(f"a{n}", 10 + n) for n in range(12)]  # 12 in the first window: a flood
    journal += [raised("b", 600 + 60 * n) for n in range(3)]  # 3 in the second
    kpis = alarm_kpis(journal, T0, at(3600))
    assert kpis.activations == 15
    assert kpis.windows == 6
    assert kpis.per_10min_avg == pytest.approx(15 / 6)
    assert kpis.per_10min_max == 12
    assert kpis.flood_windows == 1
    assert kpis.flood_percent == pytest.approx(100 / 6)


def test_exactly_ten_in_a_window_is_not_a_flood() -> None:
    kpis = alarm_kpis([raised(f"a{n}", n) for n in range(10)], T0, at(600))
    assert (kpis.windows, kpis.flood_windows, kpis.per_10min_max) == (1, 0, 10)


def test_only_activations_inside_the_range_count() -> None:
    journal = [
        raised("early", -1),
        raised("a", 0),
        step("a", 5, S.UNACK, S.ACKED, True),  # not an activation
        step("a", 6, S.ACKED, S.SHELVED, True),
        step("a", 7, S.SHELVED, S.UNACK, True),  # unshelved while active: annunciated again
        raised("late", 600),
    ]
    kpis = alarm_kpis(journal, T0, at(600))
    assert kpis.activations == 2
    assert kpis.top == (("a", 2),)
    assert [is_activation(t) for t in journal] == [True, True, False, False, True, True]


def test_standing_and_stale_at_the_end() -> None:
    day = 24 * 3600
    journal = [
        raised("old", 0),
        step("old", 60, S.UNACK, S.ACKED, True),  # acknowledged, still active: standing
        raised("new", day),
        raised("gone", 10),
        step("gone", 20, S.UNACK, S.RTN_UNACK, False),
        raised("hidden", 30),
        step("hidden", 40, S.UNACK, S.SHELVED, True),  # shelved is not standing
    ]
    kpis = alarm_kpis(journal, at(day), at(day + 7200))
    assert kpis.standing == ("new", "old")
    assert kpis.stale == ("old",)
    assert kpis.activations == 1


def test_chattering_is_three_activations_within_a_minute() -> None:
    journal = [raised("chatty", s) for s in (0, 20, 60)]
    journal += [raised("slow", s) for s in (0, 31, 62)]
    journal += [raised("busy", s) for s in range(0, 600, 10)]
    kpis = alarm_kpis(journal, T0, at(3600))
    assert kpis.chattering == ("busy", "chatty")


def test_top_ten_most_frequent() -> None:
    journal = [raised(f"a{n:02}", n * 100 + k) for n in range(12) for k in range(n + 1)]
    kpis = alarm_kpis(journal, T0, at(3600))
    assert [alarm_id for alarm_id, _ in kpis.top] == [f"a{n:02}" for n in range(11, 1, -1)]
    assert kpis.top[0] == ("a11", 12)


def test_an_empty_journal_and_a_bad_range() -> None:
    kpis = alarm_kpis([], T0, T0 + timedelta(hours=1))
    assert (kpis.activations, kpis.per_10min_avg, kpis.standing, kpis.top) == (0, 0.0, (), ())
    with pytest.raises(ValueError, match="ends"):
        alarm_kpis([], T0, T0)


def test_figures_from_a_real_engine_journal() -> None:
    eng = engine({"tag": "x", "kind": "high", "limit": 1})
    values = [0.0, 2.0] * 30  # chatters every 2 s
    kpis = alarm_kpis(stream(eng, "x", values), T0, at(600))
    assert kpis.activations == 30
    assert kpis.chattering == ("x.high",)
    assert kpis.flood_windows == 1


def test_memory_follows_the_activations_not_the_range() -> None:
    """Issue 10 item 1: three centuries of range with a few activations cost next to nothing
    (one counter slot per 10-minute window made ~2,000 years cost 800 MB)."""
    import tracemalloc

    journal = [raised("a", 10), raised("b", 20), raised("a", 86400 * 365 * 200)]
    end = at(86400 * 365 * 300)
    tracemalloc.start()
    try:
        kpis = alarm_kpis(journal, T0, end)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # bytes; a slot per window would be ~126 MB
    assert kpis.activations == 3
    assert kpis.windows == 300 * 365 * 144
    assert kpis.per_10min_max == 2
    assert kpis.flood_windows == 0
    assert kpis.top == (("a", 2), ("b", 1))


def test_no_activations_at_all() -> None:
    kpis = alarm_kpis([], T0, at(3600))
    assert (kpis.activations, kpis.per_10min_max, kpis.per_10min_avg) == (0, 0, 0.0)
