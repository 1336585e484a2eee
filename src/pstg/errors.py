"""The domain errors every layer raises, and nothing else decides how they look to a user.

    PstgError
     ├── Invalid           the input is wrong: a parameter, a value, a file's contents
     │    └── TooLarge     the request asks for more than a fixed limit allows
     ├── NotFound          the named thing (tag, alarm, user, token, command) does not exist
     ├── Conflict          the action clashes with the current state (already acknowledged,
     │                     held by someone else, expired)
     ├── Unavailable       a resource the action needs is not there now (database, device,
     │                     the running service); retrying later may work
     ├── Unauthenticated   who is asking is not known (no, bad or expired credentials)
     └── Forbidden         who is asking is known but may not do this

A domain error carries a message meant for the person who caused it, never an HTTP status or
an exit code: the boundaries map the classes once, `pstg.api.errors` to HTTP statuses and
`pstg.cli.errors` to exit codes. Library errors are translated where they are caught, with
`raise ... from exc`, as httpx maps its transport errors (`_transports/default.py`).
"""

from __future__ import annotations


class PstgError(Exception):
    """Base of the domain errors; `message` is what the user is told."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(PstgError, ValueError):
    """The input is wrong; the message says what and where."""


class TooLarge(Invalid):
    """The request exceeds a fixed limit; the message names the limit."""


class NotFound(PstgError, LookupError):
    """The thing named does not exist."""


class Conflict(PstgError):
    """The action clashes with the current state of what it acts on."""


class Unavailable(PstgError):
    """Something the action needs is not available now; it may work later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        """Seconds after which a retry makes sense, when known."""


class Unauthenticated(PstgError):
    """The caller could not be identified."""


class Forbidden(PstgError):
    """The caller is known but not allowed to do this."""
