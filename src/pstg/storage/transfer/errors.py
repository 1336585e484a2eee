"""Why an export or import cannot start. Each is a domain error (`pstg.errors`), so the
command line and any other boundary map it without knowing this module; `TransferError` is
their common base for callers that want all of them.

    TransferError
     ├── UnknownStation   (NotFound)  --station names a station the database does not have
     ├── UnknownTag       (NotFound)  a tag name the database (or the station) does not have
     ├── AmbiguousTag     (Invalid)   a name several stations use, and no --station
     └── InvalidImport    (Invalid)   a file with invalid lines; nothing was stored

A malformed time or an empty range is `pstg.times.InvalidTime`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pstg.errors import Invalid, NotFound, PstgError

if TYPE_CHECKING:
    from pstg.storage.transfer.checking import ImportCheck


class TransferError(PstgError):
    """An export or import that cannot start; the message says why, in one line."""


class UnknownStation(TransferError, NotFound):
    """--station names a station the database does not have."""


class UnknownTag(TransferError, NotFound):
    """A tag name the database (or the chosen station) does not have."""


class AmbiguousTag(TransferError, Invalid):
    """A tag name several stations use, with no --station to choose between them."""


class InvalidImport(TransferError, Invalid):
    """An import file with invalid lines (and no --skip-invalid), or one that could not be read
    to the end; nothing was stored. `check` holds the problems."""

    def __init__(self, message: str, check: ImportCheck) -> None:
        super().__init__(message)
        self.check = check
