"""Checking the audit chain: `verify(engine)` reads the table once in id order and names every
row that was edited, deleted, moved or slipped in.

What each finding means (the writer guarantees ids 1, 2, 3, ... without gaps, strictly
increasing times, and each row's `prev_hash` equal to the previous row's `hash`):

- deleted: ids are missing (named by the first), or the exported head row given as
  `expected_head` is gone (the end of the log was cut off);
- edited: the row's content does not match its hash; or it matches but the next row does
  not chain to it (changed and its hash recomputed);
- reordered: the row does not match its hash and chains to the row after it, or is dated out
  of order with a neighbour (swapped rows, swapped times);
- inserted: the next row chains past it to the row before it, or it neither matches its hash
  nor chains to the row before: PSTG did not write it there.

A row that is intact but follows a damaged one is not blamed for its neighbour. The check
keeps three rows in memory, whatever the size of the table. Its limit: someone who can
rewrite the table can recompute every hash after a change; only a head hash kept elsewhere
(`expected_head`) shows that. See docs/audit.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.audit.log import GENESIS_HASH, hashed_values, row_hash
from pstg.audit.tables import audit_log

ProblemKind = Literal["edited", "deleted", "reordered", "inserted"]
MAX_PROBLEMS = 1000
"""More are counted, not listed: a table rewritten from the start would list every row."""
BATCH = 1000


@dataclass(frozen=True)
class Problem:
    id: int
    """The row the problem is about (for deleted rows: the first missing id)."""
    kind: ProblemKind
    message: str


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    """Rows read."""
    problems: list[Problem] = field(default_factory=list)
    """The first MAX_PROBLEMS problems, by row."""
    problem_count: int = 0
    head_id: int | None = None
    """The last row: export (head_id, head_hash) now and then to detect a rewrite later."""
    head_hash: str | None = None


@dataclass(frozen=True)
class _Link:
    """What the check needs of a row."""

    id: int
    ts: int | None
    """None when a tampered (SQLite) row holds something else than a number."""
    prev_hash: Any
    hash: Any
    intact: bool
    """Its content matches its hash."""


def verify(engine: Engine, *, expected_head: tuple[int, str] | None = None) -> VerifyResult:
    """Check the whole chain; `expected_head` is an earlier head (id, hash) that must still
    be in it unchanged."""
    problems: list[Problem] = []
    count = 0
    checked = 0
    head: _Link | None = None
    head_seen = False

    def report(problem: Problem) -> None:
        nonlocal count
        count += 1
        if len(problems) < MAX_PROBLEMS:
            problems.append(problem)

    window: list[_Link] = []
    before: _Link | None = None
    before_flagged = False
    for link in _links(engine):
        checked += 1
        head = link
        if expected_head is not None and link.id == expected_head[0]:
            head_seen = True
            if link.hash != expected_head[1]:
                report(_head_changed(*expected_head))
        window.append(link)
        if len(window) == 2:
            found = _judge(before, before_flagged, window[0], window[1])
            for problem in found:
                report(problem)
            before_flagged = any(problem.id == window[0].id for problem in found)
            before = window.pop(0)
    if window:
        for problem in _judge(before, before_flagged, window[0], None):
            report(problem)
    if expected_head is not None and not head_seen:
        report(
            Problem(
                expected_head[0],
                "deleted",
                f"the exported head row {expected_head[0]} is missing: "
                "the end of the log was cut off or the log replaced",
            )
        )
    problems.sort(key=lambda problem: problem.id)
    return VerifyResult(
        ok=count == 0,
        checked=checked,
        problems=problems,
        problem_count=count,
        head_id=None if head is None else head.id,
        head_hash=None if head is None else str(head.hash),
    )


def _links(engine: Engine) -> Iterator[_Link]:
    query = sa.select(audit_log).order_by(audit_log.c.id)
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=BATCH).execute(query)
        for row in result:
            try:
                intact = row_hash(hashed_values(row)) == row.hash
            except (TypeError, ValueError):  # a value JSON cannot hold: not ours
                intact = False
            ts = row.ts if isinstance(row.ts, int) else None
            yield _Link(row.id, ts, row.prev_hash, row.hash, intact)


def _judge(
    before: _Link | None, before_flagged: bool, row: _Link, after: _Link | None
) -> list[Problem]:
    """The problems `row` shows between its neighbours (`before_flagged`: the row before it
    has a problem of its own already)."""
    found: list[Problem] = []
    expected_id = 1 if before is None else before.id + 1
    gap = row.id > expected_id
    if gap:
        found.append(_missing(expected_id, row.id))
    expected_prev = GENESIS_HASH if before is None else before.hash
    # After a damaged row (one slipped in, say) the next may rightly chain past it.
    chained = row.prev_hash == expected_prev or (
        before_flagged and before is not None and row.prev_hash == before.prev_hash
    )
    if row.intact:
        if not chained and not gap and not before_flagged:
            found.append(_rewritten(before, row))
        return found
    where = "the start" if before is None else f"row {before.id}"
    kind: ProblemKind
    if after is not None and row.prev_hash == after.hash:
        kind, message = "reordered", f"it chains to row {after.id}, which follows it: swapped"
    elif after is not None and not (gap or before_flagged) and after.prev_hash == expected_prev:
        kind, message = "inserted", f"row {after.id} chains past it to {where}: slipped in"
    elif _earlier(row, before) or _earlier(after, row):
        neighbour = before if _earlier(row, before) else after
        assert neighbour is not None
        side = "before" if neighbour is before else "after"
        kind, message = (
            "reordered",
            f"it does not match its hash and is dated {side} row {neighbour.id}: "
            "rows were swapped or moved, or their times changed",
        )
    elif chained or gap:
        kind, message = "edited", "its content does not match its hash: changed after writing"
    else:
        kind, message = (
            "inserted",
            f"it neither matches its hash nor chains to {where}: PSTG did not write it there",
        )
    found.append(Problem(row.id, kind, message))
    return found


def _rewritten(before: _Link | None, row: _Link) -> Problem:
    """An intact row that does not chain to the row before it."""
    if before is None:
        return Problem(
            row.id,
            "deleted",
            f"row {row.id} does not start the chain: earlier rows were removed and the rest "
            "renumbered",
        )
    return Problem(
        before.id,
        "edited",
        f"row {row.id} does not chain to it: it was changed and its hash recomputed, or replaced",
    )


def _earlier(row: _Link | None, than: _Link | None) -> bool:
    """Whether `row` is dated at or before `than` although it comes after it."""
    if row is None or than is None or row.ts is None or than.ts is None:
        return False
    return row.ts <= than.ts


def _missing(first: int, following: int) -> Problem:
    last = following - 1
    which = f"row {first} is" if first == last else f"rows {first} to {last} are"
    return Problem(first, "deleted", f"{which} missing (the ids jump to {following})")


def _head_changed(head_id: int, head_hash: str) -> Problem:
    return Problem(
        head_id,
        "edited",
        f"its hash is not the exported head hash {head_hash[:12]}...: "
        "the log was rewritten up to this row",
    )
