"""notification_failed: a notification that could not be delivered (pstg.notify).

The notification channels report the end of every delivery to the engine
(`AlarmEngine.notification_result`) by route key, `channel:recipient` (`email:alice`):

- a delivery that failed after its last retry (or was dropped on a full queue) puts its key
  among the failing ones;
- a delivery that arrived takes its key out.

The condition is true while any key is failing; the alarm's value says which, in words
(`email to alice: connection refused`), for the operator who must phone instead. A restart
forgets the keys: the next delivery to each recipient decides again, and until then the
restored alarm stays as it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pstg.alarms.conditions.base import Condition, Timers
from pstg.alarms.delays import Delays
from pstg.alarms.index import Handler
from pstg.alarms.model import Alarm, Transition
from pstg.alarms.rules import AlarmRule


class NotificationFailedCondition(Condition):
    """The condition of a notification_failed alarm; see the module docstring."""

    __slots__ = ("failing",)

    def __init__(self, alarm: Alarm, rule: AlarmRule, delays: Delays, timers: Timers) -> None:
        super().__init__(alarm, rule, delays, timers)
        self.failing: dict[str, str] = {}
        """Route keys whose last delivery failed, with what went wrong."""

    def inputs(self) -> list[tuple[str, Handler]]:
        return []

    def on_delivery(
        self, key: str, delivered: bool, error: str, ts: datetime, out: list[Transition]
    ) -> None:
        if delivered:
            if self.failing.pop(key, None) is None and not self.restoring:
                return  # a delivery like the others: nothing changes
        else:
            self.failing[key] = error
        self.alarm.value = "; ".join(f"{k}: {why}" for k, why in self.failing.items()) or None
        self._evaluate(bool(self.failing), ts, ts, out)

    def tick(self, now: datetime, out: list[Transition]) -> None:
        """Armed only after a restore with a change waiting: start its delay over."""
        self._timers.disarm(self)
        self._delays.settle(self, now, out)

    def save(self) -> dict[str, Any]:
        return {"raw": self.raw}

    def restore(self, entry: dict[str, Any], now: datetime) -> None:
        raw = entry.get("raw", False)
        if not isinstance(raw, bool):
            raise ValueError(f"raw {raw!r} is not true or false")
        super().restore(entry, now)
        if raw != self.alarm.active:
            self.raw = raw
            self.raw_since = now
            self._timers.arm(self)
