"""fail_to_start: a pump commanded to run without its running feedback for `timeout`.

Two inputs: the run command (the rule's tag) and the running feedback (`feedback`). While the
command is on and the feedback off a timer runs; when it reaches the timeout the alarm's
condition holds, dated when the timeout ran out. The feedback arriving, or the command going,
clears it. While either input is unknown nothing can be concluded: the timer stops and a
pending change is dropped. The alarm's value is the command's last known value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pstg.alarms.conditions.base import Condition, Timers, known_number
from pstg.alarms.delays import Delays
from pstg.alarms.index import Handler
from pstg.alarms.model import Alarm, Transition
from pstg.alarms.rules import AlarmRule
from pstg.model import Sample


class FailToStartCondition(Condition):
    """The condition of a fail_to_start alarm; see the module docstring."""

    __slots__ = ("command", "feedback", "waiting_since")

    def __init__(self, alarm: Alarm, rule: AlarmRule, delays: Delays, timers: Timers) -> None:
        super().__init__(alarm, rule, delays, timers)
        self.command: bool | None = None  # None while unknown
        self.feedback: bool | None = None
        self.waiting_since: datetime | None = None
        """Commanded without feedback since then; None while no timer runs."""

    def inputs(self) -> list[tuple[str, Handler]]:
        inputs = super().inputs()
        if self.rule.feedback is not None:
            inputs.append((self.rule.feedback, self.on_feedback))
        return inputs

    def on_value(self, sample: Sample, out: list[Transition]) -> None:
        """A sample of the run command."""
        value = known_number(sample)
        self.command = bool(value) if value is not None else None
        if value is not None:
            self.alarm.value = value
        self._decide(sample.ts, out)

    def on_feedback(self, sample: Sample, out: list[Transition]) -> None:
        """A sample of the running feedback."""
        value = known_number(sample)
        self.feedback = bool(value) if value is not None else None
        self._decide(sample.ts, out)

    def _decide(self, ts: datetime, out: list[Transition]) -> None:
        if self.command is None or self.feedback is None:
            # An input is unknown: nothing can be concluded, nor should a timer run on.
            self._stop_waiting()
            self._forget_change()
            return
        if self.command and not self.feedback:
            if self.waiting_since is None:
                self.waiting_since = ts
                self._timers.arm(self)
            self.tick(ts, out)
        else:
            self._stop_waiting()
            self._evaluate(False, ts, ts, out)

    def tick(self, now: datetime, out: list[Transition]) -> None:
        since = self.waiting_since
        if since is None:
            self._timers.disarm(self)
            return
        if now - since >= self.rule.timeout:
            self._timers.disarm(self)
            self._evaluate(True, since + self.rule.timeout, now, out)

    def restore(self, entry: dict[str, Any], now: datetime) -> None:
        super().restore(entry, now)
        self._stop_waiting()  # the inputs must be seen again before a timer can run

    def _stop_waiting(self) -> None:
        self.waiting_since = None
        self._timers.disarm(self)
