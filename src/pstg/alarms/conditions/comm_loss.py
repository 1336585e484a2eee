"""comm_loss: no good read from a device for `timeout`.

The condition reads every tag of its device (`AlarmRule.device_tags`, known when the rules
come from a whole station): a good sample of any of them is a good read. It is armed from the
start, since silence is what it watches for; `tick` activates it once the device has been
silent for the timeout, dated when the timeout ran out. The clock starts at the first sample
or tick, so a device gets its timeout to answer after a start. A disabled device is not polled
on purpose: its alarm reads nothing and never activates. The alarm's value is the seconds
without a good read, 0 once the device answers again.
"""

from __future__ import annotations

from datetime import datetime

from pstg.alarms.conditions.base import Condition, Timers
from pstg.alarms.delays import Delays
from pstg.alarms.index import Handler
from pstg.alarms.model import Alarm, Transition
from pstg.alarms.rules import AlarmRule
from pstg.model import Quality, Sample


class CommLossCondition(Condition):
    """The condition of a comm_loss alarm; see the module docstring."""

    __slots__ = ("last_read",)

    def __init__(self, alarm: Alarm, rule: AlarmRule, delays: Delays, timers: Timers) -> None:
        super().__init__(alarm, rule, delays, timers)
        self.last_read: datetime | None = None
        """The last good read, or when watching began."""
        if rule.device_enabled:
            timers.arm(self)

    def inputs(self) -> list[tuple[str, Handler]]:
        if not self.rule.device_enabled:
            return []
        return [(tag, self.on_value) for tag in sorted(self.rule.device_tags)]

    def on_value(self, sample: Sample, out: list[Transition]) -> None:
        """A sample of any tag of the device."""
        ts = sample.ts
        if sample.quality is not Quality.BAD:
            self.last_read = ts
            if self.raw or self.alarm.active or self.restoring:
                self.alarm.value = 0.0
                self._evaluate(False, ts, ts, out)
        else:
            self.tick(ts, out)

    def tick(self, now: datetime, out: list[Transition]) -> None:
        if self.last_read is None:
            self.last_read = now  # the device has had no chance to answer before now
            return
        if self.raw:
            return
        silent = now - self.last_read
        if silent >= self.rule.timeout:
            self.alarm.value = round(silent.total_seconds(), 3)
            self._evaluate(True, self.last_read + self.rule.timeout, now, out)
