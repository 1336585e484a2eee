"""The alarm engine's errors, a tree of their own:

    AlarmError                base of the engine's errors
    ├── UnknownAlarm          no alarm has that id (also a KeyError)
    ├── ActionRefused         the operator's action does not apply now (also a ValueError)
    └── SnapshotError         a persisted snapshot that cannot be restored (also a ValueError)

Each also derives from the built-in exception it resembles, so callers that catch KeyError or
ValueError keep working.
"""

from __future__ import annotations


class AlarmError(Exception):
    """Base of the alarm engine's errors."""


class UnknownAlarm(AlarmError, KeyError):
    """No alarm has this id."""

    def __init__(self, alarm_id: str) -> None:
        super().__init__(alarm_id)
        self.alarm_id = alarm_id

    def __str__(self) -> str:  # KeyError would print the repr of its argument
        return f"no alarm {self.alarm_id!r}"


class ActionRefused(AlarmError, ValueError):
    """An acknowledge, shelve or service change that does not apply to the alarm now."""


class SnapshotError(AlarmError, ValueError):
    """A persisted snapshot with an entry the engine cannot read."""
