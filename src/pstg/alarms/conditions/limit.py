"""high_high, high, low, low_low: a value past a limit, with the deadband as hysteresis.

An alarm activates at the limit and clears only past limit ∓ deadband (`AlarmRule.
limit_condition`), so a value hovering at the limit does not chatter. A bad sample leaves the
condition as it was and drops a change waiting for its delay.
"""

from __future__ import annotations

from pstg.alarms.conditions.base import Condition, known_number
from pstg.alarms.model import Transition
from pstg.model import Sample


class LimitCondition(Condition):
    """The condition of a limit alarm (high_high, high, low, low_low)."""

    __slots__ = ()

    def on_value(self, sample: Sample, out: list[Transition]) -> None:
        value = known_number(sample)
        if value is None:
            self._forget_change()
            return
        alarm = self.alarm
        alarm.value = value
        # The deadband widens the condition of an active alarm only: it activates at the
        # limit and clears past limit ∓ deadband.
        raw = self.rule.limit_condition(value, alarm.active)
        self._evaluate(raw, sample.ts, sample.ts, out)
