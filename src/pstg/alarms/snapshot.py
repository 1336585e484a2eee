"""An alarm's lifecycle as JSON-ready fields, so states survive a restart.

`dump` gives the fields every alarm has (state, condition, value, shelve, who acted last);
a condition adds its own evaluation state (`Condition.save`, e.g. the starts of a
starts_per_hour window). `load` puts them back; the service keeps one entry per alarm in the
`alarm_states` table. Times are ISO 8601 strings with their offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pstg.alarms.model import Alarm
from pstg.alarms.states import AlarmState


def format_time(value: datetime | None) -> str | None:
    """`value` as ISO 8601, None as None."""
    return value.isoformat() if value is not None else None


def parse_time(value: object) -> datetime | None:
    """A time written by `format_time`; ValueError if it is not one or has no timezone."""
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} has no timezone")
    return moment


def dump(alarm: Alarm) -> dict[str, Any]:
    """The alarm's own fields, with its id and its rule's kind (restore checks both)."""
    return {
        "id": alarm.id,
        "kind": alarm.rule.kind,
        "state": alarm.state.value,
        "active": alarm.active,
        "value": alarm.value,
        "since": format_time(alarm.since),
        "active_since": format_time(alarm.active_since),
        "suppressed": alarm.suppressed,
        "shelved_until": format_time(alarm.shelved_until),
        "shelved_by": alarm.shelved_by,
        "user": alarm.user,
        "comment": alarm.comment,
        "last_transition_ts": format_time(alarm.last_transition_ts),
    }


def load(alarm: Alarm, entry: dict[str, Any]) -> None:
    """Put the fields of `entry` back into `alarm`; KeyError, TypeError or ValueError if the
    entry cannot be read (the alarm may then be half loaded)."""
    state = AlarmState(entry["state"])
    active = bool(entry.get("active", False))
    if state in (AlarmState.UNACK, AlarmState.ACKED):
        active = True  # the lifecycle states say what the condition was
    elif state in (AlarmState.NORMAL, AlarmState.RTN_UNACK):
        active = False
    value = entry.get("value")
    alarm.state = state
    alarm.active = active
    alarm.value = value if isinstance(value, float | int | str) else None
    alarm.since = parse_time(entry.get("since"))
    alarm.active_since = parse_time(entry.get("active_since")) if active else None
    alarm.suppressed = bool(entry.get("suppressed")) or state is AlarmState.SUPPRESSED
    alarm.shelved_until = parse_time(entry.get("shelved_until"))
    alarm.shelved_by = entry.get("shelved_by")
    alarm.user = entry.get("user")
    alarm.comment = entry.get("comment")
    alarm.last_transition_ts = parse_time(entry.get("last_transition_ts"))
    if state is AlarmState.SHELVED and alarm.shelved_until is None:
        raise ValueError("shelved without shelved_until")
    if state is not AlarmState.SHELVED:
        alarm.shelved_until = alarm.shelved_by = None
