"""discrete: a tag equal to a given value (a float switch, a fault bit, a door contact).

A bad sample leaves the condition as it was and drops a change waiting for its delay.
"""

from __future__ import annotations

from pstg.alarms.conditions.base import Condition, known_number
from pstg.alarms.model import Transition
from pstg.model import Sample


class DiscreteCondition(Condition):
    """The condition of a discrete alarm: the value equals the rule's `value`."""

    __slots__ = ()

    def on_value(self, sample: Sample, out: list[Transition]) -> None:
        value = known_number(sample)
        if value is None:
            self._forget_change()
            return
        self.alarm.value = value
        self._evaluate(self.rule.discrete_condition(value), sample.ts, sample.ts, out)
