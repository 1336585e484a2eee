"""Drift-free tick arithmetic.

Ticks are at `start + k * interval`, computed from the start rather than by adding the interval
to the previous wake-up, so sleep jitter never accumulates. A cycle that ends after its
successor's tick is an overrun: the missed ticks are skipped, never queued into a backlog.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NextTick:
    index: int  # k of the tick to wait for
    at: float  # its time on the monotonic clock
    skipped: int  # ticks missed since the previous one (0 when on time)


def next_tick(start: float, interval: float, previous_index: int, now: float) -> NextTick:
    """The first tick after `previous_index` that is not already in the past at `now`."""
    candidate = previous_index + 1
    due = start + candidate * interval
    if due >= now:
        return NextTick(candidate, due, 0)
    # Late: jump to the first future tick. The tick that is exactly `now` still counts as future.
    index = max(candidate, math.ceil((now - start) / interval))
    return NextTick(index, start + index * interval, index - candidate)
