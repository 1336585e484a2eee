"""What a command is, the states it goes through, and why one is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pstg.errors import Conflict, Forbidden, Invalid, NotFound, PstgError, Unavailable


class CommandState(StrEnum):
    """The states of a command; the last seven are final."""

    SELECTED = "selected"
    """Checked and reserved; waiting for its operate (until `expires_at`)."""
    OPERATING = "operating"
    """Being written and read back."""
    CONFIRMED = "confirmed"
    """Written, and the read-back followed."""
    NOT_CONFIRMED = "not_confirmed"
    """Written, but the read-back did not follow within its timeout."""
    DEVICE_REFUSED = "device_refused"
    """The device answered with a Modbus exception: nothing was written."""
    FAILED = "failed"
    """The write got no answer (link down, no reply, time limit, audit not writable); whether
    a request that left was applied is unknown."""
    REFUSED = "refused"
    """Refused at selection by a rule (role, range, interlock, reservation...)."""
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def final(self) -> bool:
        return self not in (CommandState.SELECTED, CommandState.OPERATING)


Rule = Literal[
    "role",
    "range",
    "interlock",
    "reserved",
    "expired",
    "owner",
    "state",
    "min_interval",
    "starts_per_hour",
    "audit",
    "device",
]
"""Which rule refused a command (the API answers it as `rule`)."""


class CommandRefused(PstgError):
    """A command refused by `rule`; `error` is the domain error class the boundaries map."""

    def __init__(
        self,
        rule: Rule,
        message: str,
        error: type[PstgError],
    ) -> None:
        super().__init__(message)
        self.rule: Rule = rule
        self.error = error


def refused_forbidden(rule: Rule, message: str) -> CommandRefused:
    return CommandRefused(rule, message, Forbidden)


def refused_conflict(rule: Rule, message: str) -> CommandRefused:
    return CommandRefused(rule, message, Conflict)


def refused_invalid(message: str) -> CommandRefused:
    return CommandRefused("range", message, Invalid)


def refused_unavailable(rule: Rule, message: str) -> CommandRefused:
    return CommandRefused(rule, message, Unavailable)


class UnknownCommand(NotFound):
    """No command with that id on this station."""


CommandValue = float | int | bool | str
"""A commanded value: a number, a bit, text for a string tag."""


@dataclass
class Command:
    """One command, as the journal holds it (and the API shows it)."""

    id: int
    tag: str
    value: CommandValue | None
    label: str | None
    comment: str
    user: str
    role: str | None
    mode: Literal["sbo", "direct"]
    state: CommandState
    detail: str
    selected_at: datetime
    rule: str | None = None
    expires_at: datetime | None = None
    operated_at: datetime | None = None
    finished_at: datetime | None = None
    old_value: float | str | None = None
    read_back: float | str | None = None
    exception_code: int | None = None
    seconds: float | None = None
    """From the operate to the outcome."""
