"""What the alarm engine shows: an `Alarm` as it is now and each `Transition` of its lifecycle.

Plain data, shared by every part of the engine and by its callers (the service journals
transitions, the API serialises alarms); nothing here decides anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pstg.alarms.rules import AlarmRule
from pstg.alarms.states import AlarmState

Value = float | str | None
"""An alarm's last value: a number, a bad quality's reason, or nothing seen yet."""


@dataclass(frozen=True, slots=True)
class Transition:
    """One step of an alarm's lifecycle, for the alarm journal.

    `previous == state` for steps that keep the state (shelving a shelved alarm again).
    `active` and `value` are the condition and the last value seen at `ts`; `user` and
    `comment` are set for an operator's action; `reason` says what happened: a `Trigger`
    value, "shelve expired" or "restored".
    """

    alarm_id: str
    ts: datetime
    previous: AlarmState
    state: AlarmState
    active: bool
    value: Value
    user: str | None
    comment: str | None
    reason: str


@dataclass(eq=False)
class Alarm:
    """An alarm as the engine sees it now; `AlarmEngine.get` returns copies."""

    id: str
    rule: AlarmRule
    state: AlarmState = AlarmState.NORMAL
    active: bool = False
    """The condition, after the delays (it keeps being followed while masked)."""
    value: Value = None
    """The last value seen: the tag's value, the bad quality's reason, the starts in the
    window (starts_per_hour), the seconds without a good read (comm_loss) or the value a
    command's read-back had to reach (command_failed)."""
    since: datetime | None = None
    """When the alarm entered its current state."""
    active_since: datetime | None = None
    suppressed: bool = False
    """The suppression condition (`suppress_when`), remembered even while shelved."""
    shelved_until: datetime | None = None
    shelved_by: str | None = None
    user: str | None = None
    """Who acted on the alarm last (acknowledge, shelve, service change)."""
    comment: str | None = None
    last_transition_ts: datetime | None = None

    @property
    def acked(self) -> bool:
        """False while the alarm waits for an acknowledgement."""
        return not self.state.needs_ack
