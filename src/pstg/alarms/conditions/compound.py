"""compound: a condition on several tags, `all: [...]` or `any: [...]` of comparisons.

Each term compares a tag's value with a number (`equals`, `not_equals`, `above`, `below`, as
a command interlock does); `group.py` joins them in three-valued logic. While the group is
unknown (a bad input the known terms do not outweigh) the alarm stays as it is and a pending
change is dropped, as a limit alarm does with a bad sample. The on/off delays apply as to any
rule, so `all: [mains lost, generator not running]` with `on_delay: 60s` is "the generator
did not start within a minute of a mains failure". The alarm's value is how many terms hold.
"""

from __future__ import annotations

from datetime import datetime

from pstg.alarms.conditions.base import Condition, Timers
from pstg.alarms.conditions.group import GroupState
from pstg.alarms.delays import Delays
from pstg.alarms.index import Handler
from pstg.alarms.model import Alarm, Transition
from pstg.alarms.rules import AlarmRule, Group


class CompoundCondition(Condition):
    """The condition of a compound alarm; see the module docstring."""

    __slots__ = ("state",)

    def __init__(self, alarm: Alarm, rule: AlarmRule, delays: Delays, timers: Timers) -> None:
        super().__init__(alarm, rule, delays, timers)
        self.state = GroupState(rule.group or Group("all", ()))

    def inputs(self) -> list[tuple[str, Handler]]:
        return self.state.inputs(self.on_change)

    def on_change(self, ts: datetime, out: list[Transition]) -> None:
        """A term's tag had a sample at `ts`."""
        holds = self.state.value
        if holds is None:
            self._forget_change()
            return
        self.alarm.value = float(self.state.holding)
        self._evaluate(holds, ts, ts, out)
