"""Exit codes: the one table from the domain errors (`pstg.errors`) to the status a failed
command exits with, so a script or a supervisor can tell "fix the input" from "try later".

    0    success
    1    failure: a check found a problem (`health`, `audit verify`, `check-config`), or an
         error without a class below
    2    invalid input: a malformed option (Click's own usage errors), a value, a file's
         contents
    3-9  a command's own outcomes, kept out of this table: `pstg poll` uses 3-7 (connection
         failed, timeout, Modbus exception, malformed response, write not confirmed);
         `pstg command` gives 3, 5 and 7 the same meanings (`failed`, `device_refused`,
         `not_confirmed`, `pstg.cli.control.OUTCOME_EXIT`) and a refusal its class below
    10   not found: the named tag, station, user, token or file does not exist
    11   conflict: the state does not allow it (a schema to migrate, a file already there,
         another station answering)
    12   unavailable: a database, device or service is not there now; retrying later may work
    13   unauthenticated
    14   forbidden

README.md's command section shows the same table.
"""

from __future__ import annotations

from pstg.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PstgError,
    Unauthenticated,
    Unavailable,
)

FAILURE = 1
"""Any failure without a more specific code."""

EXIT_CODES: dict[type[PstgError], int] = {
    Invalid: 2,  # TooLarge is an Invalid
    NotFound: 10,
    Conflict: 11,
    Unavailable: 12,
    Unauthenticated: 13,
    Forbidden: 14,
}


def exit_code(error: PstgError | type[PstgError]) -> int:
    """The exit status for `error` (an instance or a class): that of its nearest class in the
    table, FAILURE when none is."""
    kind = error if isinstance(error, type) else type(error)
    for cls in kind.__mro__:
        code = EXIT_CODES.get(cls)
        if code is not None:
            return code
    return FAILURE
