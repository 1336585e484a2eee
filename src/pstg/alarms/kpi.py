"""Alarm-system performance figures (EEMUA 191 / ISA-18.2) from the alarm journal.

A pure function of a list of transitions: the API reads the journal for a range and hands it
here. An *activation* is an alarm becoming annunciated and unacknowledged: a transition into
`unacknowledged` from any other state (raised, raised again before an acknowledgement,
unshelved or unsuppressed while its condition holds, returned to service while active).

    per 10 minutes   activations per 10-minute window: average and maximum (EEMUA 191
                     calls an average of 1 "very likely to be acceptable", 2 "manageable")
    flood            a window with more than 10 activations; the share of windows in flood
    standing         alarms in alarm (unacknowledged or acknowledged) at the end of the range
    stale            standing alarms whose condition has been active for more than 24 hours
    chattering       alarms activating 3 or more times within 60 seconds
    top 10           the alarms activating most often, with their counts

Standing and stale alarms are replayed from the transitions, so pass the journal from before
`start` as well when alarms may have come up earlier; activations count only in
`[start, end)`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pstg.alarms.engine import Transition
from pstg.alarms.states import AlarmState

WINDOW = timedelta(minutes=10)
FLOOD_ACTIVATIONS = 10
"""More activations than this in one window is a flood."""
STALE_AFTER = timedelta(hours=24)
CHATTER_ACTIVATIONS = 3
CHATTER_WITHIN = timedelta(seconds=60)
TOP = 10

_IN_ALARM = (AlarmState.UNACK, AlarmState.ACKED)


@dataclass(frozen=True, slots=True)
class Kpis:
    """The figures of `alarm_kpis` for the range `[start, end)`."""

    start: datetime
    end: datetime
    activations: int
    windows: int
    """10-minute windows in the range (a shorter last one counts as one)."""
    per_10min_avg: float
    per_10min_max: int
    flood_windows: int
    flood_percent: float
    standing: tuple[str, ...]
    stale: tuple[str, ...]
    chattering: tuple[str, ...]
    top: tuple[tuple[str, int], ...]
    """(alarm id, activations), most frequent first, at most 10."""


def is_activation(transition: Transition) -> bool:
    """The alarm became annunciated and unacknowledged."""
    return transition.state is AlarmState.UNACK and transition.previous is not AlarmState.UNACK


def alarm_kpis(transitions: Sequence[Transition], start: datetime, end: datetime) -> Kpis:
    """The alarm-system figures for `[start, end)`; ValueError if `end` is not after `start`."""
    if end <= start:
        raise ValueError(f"the range ends ({end.isoformat()}) before it starts")
    window_count = max(1, math.ceil((end - start) / WINDOW))
    # Only windows with activations are counted: memory and time follow the transitions,
    # never the length of the range (a slot per window made years of range cost gigabytes).
    per_window: Counter[int] = Counter()
    activations: dict[str, list[datetime]] = {}
    last_state: dict[str, AlarmState] = {}
    active_from: dict[str, datetime] = {}
    for transition in sorted(transitions, key=lambda t: t.ts):
        ts = transition.ts
        if ts >= end:
            break
        alarm_id = transition.alarm_id
        last_state[alarm_id] = transition.state
        if transition.active:
            active_from.setdefault(alarm_id, ts)
        else:
            active_from.pop(alarm_id, None)
        if ts >= start and is_activation(transition):
            per_window[int((ts - start) / WINDOW)] += 1
            activations.setdefault(alarm_id, []).append(ts)

    total = sum(per_window.values())
    floods = sum(1 for count in per_window.values() if count > FLOOD_ACTIVATIONS)
    standing = sorted(alarm_id for alarm_id, state in last_state.items() if state in _IN_ALARM)
    stale = [
        alarm_id
        for alarm_id in standing
        if alarm_id in active_from and end - active_from[alarm_id] > STALE_AFTER
    ]
    counts = Counter({alarm_id: len(times) for alarm_id, times in activations.items()})
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return Kpis(
        start=start,
        end=end,
        activations=total,
        windows=window_count,
        per_10min_avg=total / ((end - start) / WINDOW),
        per_10min_max=max(per_window.values(), default=0),
        flood_windows=floods,
        flood_percent=100.0 * floods / window_count,
        standing=tuple(standing),
        stale=tuple(stale),
        chattering=tuple(sorted(a for a, times in activations.items() if _chatters(times))),
        top=tuple(top),
    )


def _chatters(times: list[datetime]) -> bool:
    span = CHATTER_ACTIVATIONS - 1
    return any(times[i + span] - times[i] <= CHATTER_WITHIN for i in range(len(times) - span))
