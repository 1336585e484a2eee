"""The ISA-18.2 / IEC 62682 alarm lifecycle as one pure transition table.

    (state, trigger) -> next state          TRANSITIONS, read by `next_state`

An alarm is in exactly one state. The first four are the annunciation lifecycle and follow the
condition (`active`) and the operator's acknowledgement; the last three mask the alarm:

    NORMAL ──activate──► UNACKNOWLEDGED ──acknowledge──► ACKNOWLEDGED ──clear──► NORMAL
                              │ clear                                       ▲
                              ▼                                             │ acknowledge
                      RETURNED_UNACKNOWLEDGED ──────────────────────────────┘
                              └──activate──► UNACKNOWLEDGED

    any lifecycle state ──shelve──► SHELVED ──unshelve / expiry──► (released)
    any lifecycle state ──suppress─► SUPPRESSED ──unsuppress──► (released)
    any state ──remove──► OUT_OF_SERVICE ──return to service──► (released)

A masked alarm keeps following its condition but shows none of it; when the mask lifts it is
*released*: SUPPRESSED if its suppression condition still holds, else UNACKNOWLEDGED when the
condition is active and NORMAL when it is not. Precedence is out of service > shelved >
suppressed: suppression coming or going while shelved or out of service changes no state
(the engine remembers the condition for the release), removing from service ends a shelve,
and an alarm out of service cannot be shelved. Nothing here knows about time or rules.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class AlarmState(StrEnum):
    NORMAL = "normal"
    UNACK = "unacknowledged"
    ACKED = "acknowledged"
    RTN_UNACK = "returned_unacknowledged"
    SHELVED = "shelved"
    SUPPRESSED = "suppressed"
    OUT_OF_SERVICE = "out_of_service"

    @property
    def is_masked(self) -> bool:
        """Shelved, suppressed or out of service: the alarm is not annunciated."""
        return self in _MASKED

    @property
    def needs_ack(self) -> bool:
        return self in (AlarmState.UNACK, AlarmState.RTN_UNACK)


_MASKED = frozenset({AlarmState.SHELVED, AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE})


class Trigger(StrEnum):
    """What happens to an alarm; the value is the `reason` its transition carries."""

    ACTIVATE = "activated"
    CLEAR = "cleared"
    ACKNOWLEDGE = "acknowledged"
    SHELVE = "shelved"
    UNSHELVE = "unshelved"
    SUPPRESS = "suppressed"
    UNSUPPRESS = "unsuppressed"
    REMOVE = "out of service"
    RETURN = "returned to service"


class _Release:
    """Table target: the state a masked alarm returns to, decided by its condition."""

    def __repr__(self) -> str:
        return "RELEASE"


RELEASE: Final = _Release()

S = AlarmState
T = Trigger
_LIFECYCLE = (S.NORMAL, S.UNACK, S.ACKED, S.RTN_UNACK)

TRANSITIONS: Final[dict[tuple[AlarmState, Trigger], AlarmState | _Release]] = {
    # the annunciation lifecycle
    (S.NORMAL, T.ACTIVATE): S.UNACK,
    (S.UNACK, T.ACKNOWLEDGE): S.ACKED,
    (S.UNACK, T.CLEAR): S.RTN_UNACK,
    (S.ACKED, T.CLEAR): S.NORMAL,
    (S.RTN_UNACK, T.ACKNOWLEDGE): S.NORMAL,
    (S.RTN_UNACK, T.ACTIVATE): S.UNACK,
    # masks over the lifecycle
    **{(state, T.SHELVE): S.SHELVED for state in _LIFECYCLE},
    **{(state, T.SUPPRESS): S.SUPPRESSED for state in _LIFECYCLE},
    **{(state, T.REMOVE): S.OUT_OF_SERVICE for state in _LIFECYCLE},
    (S.SHELVED, T.SHELVE): S.SHELVED,  # shelving again sets a new expiry
    (S.SHELVED, T.UNSHELVE): RELEASE,
    (S.SHELVED, T.REMOVE): S.OUT_OF_SERVICE,
    (S.SUPPRESSED, T.SHELVE): S.SHELVED,
    (S.SUPPRESSED, T.UNSUPPRESS): RELEASE,
    (S.SUPPRESSED, T.REMOVE): S.OUT_OF_SERVICE,
    (S.OUT_OF_SERVICE, T.RETURN): RELEASE,
}
"""Every transition there is. A pair not listed changes nothing: for the condition triggers
(activate, clear, suppress, unsuppress) that is normal — a masked alarm follows its condition
silently — and for the operator's triggers it is a refusal (see `refusal`)."""


def released(*, active: bool, suppressed: bool) -> AlarmState:
    """Where an alarm goes when a mask lifts: it is re-evaluated, remembering nothing."""
    if suppressed:
        return S.SUPPRESSED
    return S.UNACK if active else S.NORMAL


def next_state(
    state: AlarmState, trigger: Trigger, *, active: bool, suppressed: bool
) -> AlarmState | None:
    """The state after `trigger`, or None when the trigger does not apply in `state`.

    `active` is the alarm's condition and `suppressed` its suppression condition, both as they
    are after the trigger; they only matter for a release.
    """
    target = TRANSITIONS.get((state, trigger))
    if target is None:
        return None
    if isinstance(target, _Release):
        return released(active=active, suppressed=suppressed)
    return target


OPERATOR_TRIGGERS: Final = frozenset({T.ACKNOWLEDGE, T.SHELVE, T.UNSHELVE, T.REMOVE, T.RETURN})

_ACTION_WORDS = {
    T.ACKNOWLEDGE: "acknowledged",
    T.SHELVE: "shelved",
    T.UNSHELVE: "unshelved",
    T.REMOVE: "taken out of service",
    T.RETURN: "returned to service",
}

_REFUSAL_WHY = {
    (S.NORMAL, T.ACKNOWLEDGE): "it is normal: there is nothing to acknowledge",
    (S.ACKED, T.ACKNOWLEDGE): "it is already acknowledged",
    (S.SHELVED, T.ACKNOWLEDGE): "it is shelved; unshelve it first",
    (S.SUPPRESSED, T.ACKNOWLEDGE): "it is suppressed by design",
    (S.OUT_OF_SERVICE, T.ACKNOWLEDGE): "it is out of service",
    (S.OUT_OF_SERVICE, T.SHELVE): "it is out of service",
    (S.OUT_OF_SERVICE, T.REMOVE): "it is already out of service",
}


def refusal(state: AlarmState, trigger: Trigger) -> str:
    """Why an operator's `trigger` does not apply in `state`, in words for the operator."""
    why = _REFUSAL_WHY.get((state, trigger))
    if why is None and trigger is T.UNSHELVE:
        why = "it is not shelved"
    elif why is None and trigger is T.RETURN:
        why = "it is not out of service"
    elif why is None:
        why = f"it is {state.value.replace('_', ' ')}"
    return f"cannot be {_ACTION_WORDS.get(trigger, trigger.value)}: {why}"
