"""Checked rows into the database through `SampleStore`, in batches. The store skips rows
whose (tag, ts) is already stored, so importing a file twice stores nothing the second time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from sqlalchemy.engine import Engine

from pstg.storage.rows import StoredRow
from pstg.storage.store import SampleStore
from pstg.storage.transfer.checking import ImportCheck
from pstg.storage.transfer.errors import InvalidImport


class ImportResult(NamedTuple):
    read: int
    stored_new: int
    already_present: int
    """Rows whose (tag, ts) was stored before, or repeated within the file."""


def import_rows(
    engine: Engine,
    rows: Sequence[StoredRow],
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Store `rows` through SampleStore, `batch_size` per transaction; rows already stored are
    skipped. `progress` is called with the number of rows of each batch written."""
    store = SampleStore(engine)
    stored = 0
    for begin in range(0, len(rows), batch_size):
        batch = rows[begin : begin + batch_size]
        stored += store.write(batch)
        if progress is not None:
            progress(len(batch))
    return ImportResult(len(rows), stored, len(rows) - stored)


def import_checked(
    engine: Engine,
    check: ImportCheck,
    *,
    skip_invalid: bool = False,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Store the rows of a checked file: all or nothing, unless `skip_invalid`, which stores
    the valid lines. A file that could not be read to the end is never stored (InvalidImport).
    """
    if check.stopped:
        line = check.problems[-1].line
        raise InvalidImport(f"cannot read past line {line}; nothing imported", check)
    if check.problems and not skip_invalid:
        invalid, valid = len(check.problems), len(check.rows)
        raise InvalidImport(
            f"{invalid} invalid line{'' if invalid == 1 else 's'}, nothing imported "
            f"(--skip-invalid imports the {valid} valid one{'' if valid == 1 else 's'})",
            check,
        )
    return import_rows(engine, check.rows, batch_size, progress)
