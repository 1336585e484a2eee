"""Drift-free tick arithmetic and capped backoff, as tables of cases."""

import random

import pytest

from pstg.poller.backoff import Backoff
from pstg.poller.schedule import next_tick


@pytest.mark.parametrize(
    ("previous", "now", "expected_index", "expected_skipped"),
    [
        (0, 0.5, 1, 0),  # on time: the next tick
        (0, 1.0, 1, 0),  # exactly at the tick still counts as on time
        (0, 1.2, 2, 1),  # overran tick 1: skip it, wait for 2
        (0, 3.7, 4, 3),  # long overrun: never a backlog, jump to the first future tick
        (5, 5.1, 6, 0),
    ],
)
def test_next_tick_skips_missed_ticks(previous, now, expected_index, expected_skipped):
    tick = next_tick(start=0.0, interval=1.0, previous_index=previous, now=now)
    assert tick.index == expected_index
    assert tick.skipped == expected_skipped
    assert tick.at == pytest.approx(expected_index * 1.0)
    assert tick.at >= now


def test_ticks_do_not_drift_over_many_cycles():
    start, interval, index = 100.0, 0.1, 0
    now = start
    for _ in range(10_000):
        now += interval * 0.99  # each cycle wakes slightly early and works a little
        tick = next_tick(start, interval, index, now)
        index, now = tick.index, tick.at
    assert now == pytest.approx(start + index * interval, abs=1e-9)
    assert index == 10_000


def test_backoff_doubles_up_to_the_cap_with_bounded_jitter():
    backoff = Backoff(1.0, 10.0, jitter=0.2, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(8)]
    bases = [1, 2, 4, 8, 10, 10, 10, 10]
    for delay, base in zip(delays, bases, strict=True):
        assert 0.8 * base <= delay <= base
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_backoff_without_jitter_is_exact():
    backoff = Backoff(0.5, 4.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]


@pytest.mark.parametrize(("initial", "maximum", "jitter"), [(0, 1, 0.1), (2, 1, 0.1), (1, 2, 1.0)])
def test_backoff_rejects_nonsense(initial, maximum, jitter):
    with pytest.raises(ValueError, match=r"backoff|jitter"):
        Backoff(initial, maximum, jitter=jitter)
