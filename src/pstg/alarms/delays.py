"""From raw condition to `Alarm.active`: the on-delay and off-delay.

A rule's raw condition must hold for `on_delay` (to activate) or be gone for `off_delay` (to
clear) without interruption; then `Alarm.active` changes and the lifecycle gets an activate
or clear trigger. While a change waits for its delay the alarm is *pending*; `tick` settles
the pending alarms whose delay has run out. A value that is unknown drops a pending change
(`forget_change`): it neither raises nor clears anything.
"""

from __future__ import annotations

from datetime import datetime

from pstg.alarms.lifecycle import Lifecycle
from pstg.alarms.model import Alarm, Transition
from pstg.alarms.rules import AlarmRule
from pstg.alarms.states import Trigger

RESTORED = "restored"
"""The reason of the first change of an alarm restored from a snapshot."""


class Delayed:
    """An alarm's raw condition on its way to `Alarm.active`; each condition builds on it."""

    __slots__ = ("alarm", "raw", "raw_since", "restoring", "rule")

    def __init__(self, alarm: Alarm, rule: AlarmRule) -> None:
        self.alarm = alarm
        self.rule = rule
        self.raw = False
        """The condition before the delays (limit alarms: with the deadband's hysteresis)."""
        self.raw_since: datetime | None = None
        self.restoring = False
        """Restored from a snapshot and not yet confirmed or changed by a value."""


class Delays:
    """The on/off delays of every alarm, and the alarms with a change pending."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        self._lifecycle = lifecycle
        self._pending: dict[str, Delayed] = {}  # raw condition differs from active: a delay runs

    def evaluate(
        self, condition: Delayed, raw: bool, since: datetime, now: datetime, out: list[Transition]
    ) -> None:
        """The raw condition is `raw` (since `since`); apply the delays as of `now`."""
        if raw != condition.raw or condition.raw_since is None:
            condition.raw = raw
            condition.raw_since = since
        if raw == condition.alarm.active:
            condition.restoring = False  # a restored state confirmed by a value
            self._pending.pop(condition.alarm.id, None)
        else:
            self.settle(condition, now, out)

    def settle(self, condition: Delayed, now: datetime, out: list[Transition]) -> None:
        """Make the raw condition active if its delay has run out by `now`, else keep it pending."""
        alarm = condition.alarm
        if condition.raw == alarm.active:
            self._pending.pop(alarm.id, None)
            return
        delay = condition.rule.on_delay if condition.raw else condition.rule.off_delay
        since = condition.raw_since if condition.raw_since is not None else now
        if now - since < delay:
            self._pending[alarm.id] = condition
            return
        self._pending.pop(alarm.id, None)
        alarm.active = condition.raw
        alarm.active_since = now if condition.raw else None
        reason = RESTORED if condition.restoring else None
        condition.restoring = False
        trigger = Trigger.ACTIVATE if condition.raw else Trigger.CLEAR
        self._lifecycle.step(alarm, trigger, now, out, reason=reason)

    def restart(self, condition: Delayed, now: datetime, out: list[Transition]) -> None:
        """The condition counts from `now` (a suppression lifted): an alarm whose condition
        holds must hold it for its `on_delay` again before it is active, and one whose
        condition is gone is no longer active."""
        alarm = condition.alarm
        alarm.active = False
        alarm.active_since = None
        if condition.raw:
            condition.raw_since = now
            self.settle(condition, now, out)
        else:
            self._pending.pop(alarm.id, None)

    def forget_change(self, condition: Delayed) -> None:
        """The value is unknown: keep the state, drop a change that was waiting for its delay."""
        condition.raw = condition.alarm.active
        self.cancel(condition)

    def cancel(self, condition: Delayed) -> None:
        """Drop a pending change of `condition` without touching its raw condition."""
        self._pending.pop(condition.alarm.id, None)

    def tick(self, now: datetime, out: list[Transition]) -> None:
        """Settle every pending change as of `now`."""
        for condition in list(self._pending.values()):
            self.settle(condition, now, out)
