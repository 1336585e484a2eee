"""starts_per_hour: more than `limit` starts of a pump in the last hour (a sliding window).

The rule's tag is the running feedback; a start is a rise from a known 0 to non-zero, so
neither the first value nor a gap of bad reads counts as a start (a bad sample keeps the last
known feedback). While the window holds starts the condition is armed, so `tick` lets them
age out. The starts in the window survive a restart in the snapshot (`starts`). The alarm's
value is the number of starts in the window.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any

from pstg.alarms.conditions.base import Condition, Timers, known_number
from pstg.alarms.delays import Delays
from pstg.alarms.model import Alarm, Transition
from pstg.alarms.rules import STARTS_WINDOW, AlarmRule
from pstg.alarms.snapshot import parse_time
from pstg.model import Sample


class StartsPerHourCondition(Condition):
    """The condition of a starts_per_hour alarm; see the module docstring."""

    __slots__ = ("running", "starts")

    def __init__(self, alarm: Alarm, rule: AlarmRule, delays: Delays, timers: Timers) -> None:
        super().__init__(alarm, rule, delays, timers)
        self.running: bool | None = None
        """The last known feedback."""
        self.starts: deque[datetime] = deque()
        """When the starts in the window happened, oldest first."""

    def on_value(self, sample: Sample, out: list[Transition]) -> None:
        """A sample of the running feedback."""
        value = known_number(sample)
        if value is None:
            return  # keeps the last known feedback
        running = value != 0
        if running and self.running is False:
            self.starts.append(sample.ts)
            self._timers.arm(self)
        self.running = running
        self.tick(sample.ts, out)

    def tick(self, now: datetime, out: list[Transition]) -> None:
        """Drop the starts that left the window; compare the rest with the limit."""
        starts = self.starts
        horizon = now - STARTS_WINDOW
        while starts and starts[0] <= horizon:
            starts.popleft()
        if not starts:
            self._timers.disarm(self)
        self.alarm.value = float(len(starts))
        limit = self.rule.limit if self.rule.limit is not None else 0.0
        self._evaluate(len(starts) > limit, now, now, out)

    def save(self) -> dict[str, Any]:
        return {"starts": [ts.isoformat() for ts in self.starts]}

    def restore(self, entry: dict[str, Any], now: datetime) -> None:
        times = (parse_time(text) for text in entry.get("starts", ()))
        starts = deque(ts for ts in times if ts is not None)
        super().restore(entry, now)
        self.starts = starts
        if starts:
            self._timers.arm(self)
