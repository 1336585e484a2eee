"""An alarm's state: triggers through the lifecycle table, the operator's actions, shelving.

Every state change of every alarm goes through `Lifecycle.step`: the condition's triggers
(activate, clear, suppress, unsuppress, from the delays and `suppress_when`), the operator's
(acknowledge, shelve, unshelve, out of service, return to service) and a shelve's expiry.
`step` asks `states.next_state` for the next state and records the `Transition`. This module
works on `Alarm` objects only: how a condition arises is the business of `conditions/`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pstg.alarms.errors import ActionRefused
from pstg.alarms.model import Alarm, Transition
from pstg.alarms.states import OPERATOR_TRIGGERS, AlarmState, Trigger, next_state, refusal
from pstg.times import format_duration

DEFAULT_MAX_SHELVE = 8 * 3600.0
"""Seconds an alarm may be shelved at most (one shift)."""

SHELVE_EXPIRED = "shelve expired"
"""The reason of the transition that ends a shelve when its time is up."""


class Lifecycle:
    """Applies triggers to alarms and keeps the shelved ones for their expiry."""

    def __init__(self, max_shelve: float = DEFAULT_MAX_SHELVE) -> None:
        if max_shelve <= 0:
            raise ValueError("max_shelve must be positive")
        self.max_shelve = max_shelve
        self._shelved: dict[str, Alarm] = {}

    def step(
        self,
        alarm: Alarm,
        trigger: Trigger,
        now: datetime,
        out: list[Transition],
        *,
        user: str | None = None,
        comment: str | None = None,
        reason: str | None = None,
    ) -> Transition | None:
        """Apply `trigger` through the lifecycle table; the transition, or None if none.

        An operator's trigger that does not apply raises ActionRefused; a condition's trigger
        that does not apply changes nothing (a masked alarm follows its condition silently).
        """
        state = next_state(alarm.state, trigger, active=alarm.active, suppressed=alarm.suppressed)
        if state is None:
            if trigger in OPERATOR_TRIGGERS:
                raise ActionRefused(f"alarm {alarm.id!r} {refusal(alarm.state, trigger)}")
            return None
        transition = Transition(
            alarm.id,
            now,
            alarm.state,
            state,
            alarm.active,
            alarm.value,
            user,
            comment,
            reason or trigger.value,
        )
        if state is not alarm.state:
            alarm.since = now
        if alarm.state is AlarmState.SHELVED and state is not AlarmState.SHELVED:
            alarm.shelved_until = alarm.shelved_by = None
            self._shelved.pop(alarm.id, None)
        alarm.state = state
        alarm.last_transition_ts = now
        if user is not None or comment is not None:
            alarm.user, alarm.comment = user, comment
        out.append(transition)
        return transition

    # --- the operator's actions -------------------------------------------------------------

    def act(
        self, alarm: Alarm, trigger: Trigger, user: str | None, comment: str | None, now: datetime
    ) -> Transition:
        """An operator's `trigger` (acknowledge, unshelve, out of service, return to service)."""
        transition = self.step(alarm, trigger, now, [], user=user, comment=comment)
        assert transition is not None  # operator triggers raise instead
        return transition

    def check_shelve_duration(self, duration: float) -> None:
        """ActionRefused unless `duration` seconds is a shelve this station allows."""
        if not 0 < duration <= self.max_shelve:
            raise ActionRefused(
                f"shelve duration {format_duration(max(duration, 0.0))} is not allowed: "
                f"it must be more than 0 and at most {format_duration(self.max_shelve)}"
            )

    def shelve(
        self,
        alarm: Alarm,
        user: str | None,
        comment: str | None,
        duration: float,
        now: datetime,
    ) -> Transition:
        """Shelve for `duration` seconds; shelving again re-times it."""
        self.check_shelve_duration(duration)
        transition = self.act(alarm, Trigger.SHELVE, user, comment, now)
        alarm.shelved_until = now + timedelta(seconds=duration)
        alarm.shelved_by = user
        self._shelved[alarm.id] = alarm
        return transition

    # --- time and restarts ------------------------------------------------------------------

    def expire_shelves(self, now: datetime, out: list[Transition]) -> None:
        """End the shelves whose time is up at `now`."""
        for alarm in list(self._shelved.values()):
            until = alarm.shelved_until
            if until is not None and now >= until:
                self.step(alarm, Trigger.UNSHELVE, now, out, reason=SHELVE_EXPIRED)

    def restored(self, alarm: Alarm) -> None:
        """`alarm` was loaded from a snapshot: watch its shelve, if it has one."""
        if alarm.state is AlarmState.SHELVED:
            self._shelved[alarm.id] = alarm
        else:
            self._shelved.pop(alarm.id, None)
