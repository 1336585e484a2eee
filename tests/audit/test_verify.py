"""`verify` on an intact chain and on chains tampered with in the database, on both backends:
each case names the rows it must blame, with the kind, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine

from pstg.audit import GENESIS_HASH, verify
from pstg.audit.log import hashed_values, row_hash
from pstg.audit.tables import audit_log
from tests.audit.conftest import (
    append,
    delete,
    rehash,
    row,
    swap_fields,
    swap_ids,
    update,
)

ROWS = 8


def test_an_intact_chain(engine: Engine) -> None:
    empty = verify(engine)
    assert (empty.ok, empty.checked, empty.problems, empty.head_id) == (True, 0, [], None)
    written = append(engine, ROWS)
    result = verify(engine)
    assert result.ok
    assert result.checked == ROWS
    assert result.problems == []
    assert (result.head_id, result.head_hash) == (ROWS, written[-1].hash)
    assert verify(engine, expected_head=(3, written[2].hash)).ok


def _slip_in(engine: Engine) -> None:
    """A made-up row at the end that does not chain to the last one."""
    values = {**row(engine, ROWS), "id": ROWS + 1, "ts": row(engine, ROWS)["ts"] + 1}
    values.update(action="user.add", target="user:mallory", prev_hash="f" * 64, hash="e" * 64)
    with engine.begin() as connection:
        connection.execute(audit_log.insert().values(**values))


def _slip_in_the_middle(engine: Engine) -> None:
    """Rows 5.. move up one id; a made-up row takes id 5, chained to row 4 (but its hash is
    not right: PSTG's recipe needs the id, and the forger got it wrong)."""
    for row_id in range(ROWS, 4, -1):
        update(engine, row_id, id=row_id + 1)
    fake = {**row(engine, 4), "id": 5, "ts": row(engine, 4)["ts"] + 1}
    fake.update(action="user.add", target="user:mallory", prev_hash=row(engine, 4)["hash"])
    right = row_hash(hashed_values(fake))
    fake["hash"] = ("1" if right[0] != "1" else "2") + right[1:]
    with engine.begin() as connection:
        connection.execute(audit_log.insert().values(**fake))


def _edit_and_rehash(engine: Engine) -> None:
    update(engine, 3, target="user:nobody")
    rehash(engine, 3)


def _shift_time(engine: Engine, row_id: int, delta: int) -> None:
    update(engine, row_id, ts=row(engine, row_id)["ts"] + delta)


@dataclass(frozen=True)
class Tamper:
    name: str
    change: Callable[[Engine], None]
    blamed: list[tuple[int, str]]


CASES = [
    Tamper("edited target", lambda e: update(e, 3, target="user:nobody"), [(3, "edited")]),
    Tamper("edited result", lambda e: update(e, 1, result="denied"), [(1, "edited")]),
    Tamper("edited old value", lambda e: update(e, ROWS, old_value='{"n":0}'), [(ROWS, "edited")]),
    Tamper("edited prev_hash", lambda e: update(e, 4, prev_hash="a" * 64), [(4, "inserted")]),
    Tamper("edited time, still in order", lambda e: _shift_time(e, 4, -1), [(4, "edited")]),
    Tamper("edited and rehashed", _edit_and_rehash, [(3, "edited")]),
    Tamper("deleted row", lambda e: delete(e, 4), [(4, "deleted")]),
    Tamper("deleted rows", lambda e: delete(e, 4, 5, 6), [(4, "deleted")]),
    Tamper("deleted first row", lambda e: delete(e, 1), [(1, "deleted")]),
    Tamper(
        "swapped action and target",
        lambda e: swap_fields(e, 3, 4, "action", "target"),
        [(3, "edited"), (4, "edited")],
    ),
    Tamper(
        "swapped times",
        lambda e: swap_fields(e, 3, 4, "ts"),
        [(3, "reordered"), (4, "reordered")],
    ),
    Tamper("swapped rows", lambda e: swap_ids(e, 3, 4), [(3, "reordered"), (4, "reordered")]),
    Tamper(
        "swapped distant rows",
        lambda e: swap_ids(e, 2, 6),
        [(2, "reordered"), (6, "reordered")],
    ),
    Tamper(
        "swapped first and last",
        lambda e: swap_ids(e, 1, ROWS),
        [(1, "reordered"), (ROWS, "reordered")],
    ),
    Tamper("row slipped in at the end", _slip_in, [(ROWS + 1, "inserted")]),
    Tamper(
        "row slipped in, later ones renumbered",
        _slip_in_the_middle,
        [(5, "inserted")] + [(n, "edited") for n in range(6, ROWS + 2)],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_tampering_is_found_and_named(engine: Engine, case: Tamper) -> None:
    append(engine, ROWS)
    case.change(engine)
    result = verify(engine)
    assert not result.ok
    assert [(problem.id, problem.kind) for problem in result.problems] == case.blamed, [
        f"{problem.id} {problem.kind}: {problem.message}" for problem in result.problems
    ]
    assert result.problem_count == len(case.blamed)
    for problem in result.problems:
        assert problem.message


def test_messages_say_what_happened(engine: Engine) -> None:
    append(engine, ROWS)
    delete(engine, 4, 5)
    update(engine, 2, target="user:nobody")
    result = verify(engine)
    assert [f"row {p.id}: {p.kind}: {p.message}" for p in result.problems] == [
        "row 2: edited: its content does not match its hash: changed after writing",
        "row 4: deleted: rows 4 to 5 are missing (the ids jump to 6)",
    ]


def test_an_exported_head_catches_a_cut_or_rewritten_end(engine: Engine) -> None:
    written = append(engine, ROWS)
    head = (ROWS, written[-1].hash)
    assert verify(engine, expected_head=head).ok
    delete(engine, ROWS)  # the chain alone cannot see a missing last row
    assert verify(engine).ok
    result = verify(engine, expected_head=head)
    assert [(p.id, p.kind) for p in result.problems] == [(ROWS, "deleted")]

    append(engine, 1)  # a new row ROWS, chained correctly, but not the one exported
    result = verify(engine, expected_head=head)
    assert [(p.id, p.kind) for p in result.problems] == [(ROWS, "edited")]
    assert "not the exported head hash" in result.problems[0].message


def test_a_row_sqlite_lets_hold_any_type(tmp_path) -> None:
    from pstg.storage.database import create_engine
    from pstg.storage.migrate import upgrade

    engine = create_engine(f"sqlite:///{tmp_path / 'pstg.db'}")
    upgrade(engine)
    append(engine, 3)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_log SET ts = 'yesterday' WHERE id = 2")
        connection.exec_driver_sql("UPDATE audit_log SET detail = x'00ff' WHERE id = 3")
    result = verify(engine)
    assert [(p.id, p.kind) for p in result.problems] == [(2, "edited"), (3, "edited")]
    engine.dispose()


def test_the_first_row_chains_to_the_genesis_hash(engine: Engine) -> None:
    append(engine, 2)
    assert row(engine, 1)["prev_hash"] == GENESIS_HASH
    assert row(engine, 2)["prev_hash"] == row(engine, 1)["hash"]
