"""run_too_long: a pump running without a stop for longer than `timeout`.

The rule's tag is the running feedback. A run starts when the feedback is seen non-zero (the
first value seen counts: the gateway cannot know how long the pump ran before it started); it
ends when the feedback is seen 0, which clears the condition. A bad sample keeps the last known
feedback, so a gap of bad reads neither ends a run nor resets its clock. A pump that runs on
past the timeout is ragged, blocked or pumping against a stuck float.

The start of the run survives a restart in the snapshot (`running_since`), so a restart does
not reset the clock; it runs on once the first sample shows the pump still running. The
alarm's value is the seconds the run has lasted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pstg.alarms.conditions.base import Condition, Timers, known_number
from pstg.alarms.delays import Delays
from pstg.alarms.model import Alarm, Transition
from pstg.alarms.rules import AlarmRule
from pstg.alarms.snapshot import format_time, parse_time
from pstg.model import Sample


class RunTooLongCondition(Condition):
    """The condition of a run_too_long alarm; see the module docstring."""

    __slots__ = ("running_since",)

    def __init__(self, alarm: Alarm, rule: AlarmRule, delays: Delays, timers: Timers) -> None:
        super().__init__(alarm, rule, delays, timers)
        self.running_since: datetime | None = None
        """When the run in progress began; None while stopped (or not yet seen)."""

    def on_value(self, sample: Sample, out: list[Transition]) -> None:
        """A sample of the running feedback."""
        value = known_number(sample)
        if value is None:
            return  # keeps the last known feedback, and the run's clock
        if value == 0:
            self.running_since = None
            self._timers.disarm(self)
            self.alarm.value = 0.0
            self._evaluate(False, sample.ts, sample.ts, out)
            return
        if self.running_since is None:
            self.running_since = sample.ts
        self._timers.arm(self)
        self.tick(sample.ts, out)

    def tick(self, now: datetime, out: list[Transition]) -> None:
        since = self.running_since
        if since is None:
            self._timers.disarm(self)
            return
        ran = now - since
        self.alarm.value = round(ran.total_seconds(), 3)
        if ran >= self.rule.timeout:
            self._evaluate(True, since + self.rule.timeout, now, out)

    def save(self) -> dict[str, Any]:
        return {"running_since": format_time(self.running_since)}

    def restore(self, entry: dict[str, Any], now: datetime) -> None:
        since = parse_time(entry.get("running_since"))
        super().restore(entry, now)
        # The clock runs on from the saved start once a sample shows the pump still running
        # (a pump stopped meanwhile must not be raised before its first sample says so).
        self.running_since = since
