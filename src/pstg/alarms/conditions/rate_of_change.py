"""rate_of_change: a value changing faster than `limit` per `per` (a level rising fast).

The rate is measured over the last `per`: the change from the newest sample at least `per`
old to the latest, scaled to `per` (`limit: 0.3, per: 1m` reads "0.3 or more in a minute").
A positive limit watches the value rising (`rate >= limit`), a negative one falling
(`rate <= limit`: `limit: -0.3` is falling 0.3 or more a minute). The deadband is hysteresis on
the rate, as on a limit: the alarm clears once the rate is back past limit ∓ deadband.

Until the samples span `per` there is no rate and the alarm stays as it is. A bad sample
empties the window (a rate across a gap of unknown values would be guessed) and drops a
pending change. The window fills again after a restart. The alarm's value is the last rate.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from pstg.alarms.conditions.base import Condition, Timers, known_number
from pstg.alarms.delays import Delays
from pstg.alarms.model import Alarm, Transition
from pstg.alarms.rules import AlarmRule
from pstg.model import Sample


class RateOfChangeCondition(Condition):
    """The condition of a rate_of_change alarm; see the module docstring."""

    __slots__ = ("window",)

    def __init__(self, alarm: Alarm, rule: AlarmRule, delays: Delays, timers: Timers) -> None:
        super().__init__(alarm, rule, delays, timers)
        self.window: deque[tuple[datetime, float]] = deque()
        """(time, value) of the samples in the last `per`, and the newest one before it."""

    def on_value(self, sample: Sample, out: list[Transition]) -> None:
        value = known_number(sample)
        if value is None:
            self.window.clear()
            self._forget_change()
            return
        ts = sample.ts
        window = self.window
        window.append((ts, value))
        horizon = ts - self.rule.per
        while len(window) > 1 and window[1][0] <= horizon:
            window.popleft()  # the second one is old enough to measure from
        then, before = window[0]
        span = ts - then
        if span < self.rule.per:
            return  # not a whole `per` of samples yet: no rate
        rate = (value - before) * (self.rule.per / span)
        self.alarm.value = round(rate, 6)
        raw = self.rule.limit_condition(rate, self.alarm.active)
        self._evaluate(raw, ts, ts, out)
