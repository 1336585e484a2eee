"""Appending to the chain (in the caller's transaction, serialized between writers) and
reading it back, on both backends."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.audit import GENESIS_HASH, Actor, AuditEntry, cli_actor, list_entries, record, verify
from pstg.audit.log import hashed_values, row_hash
from pstg.audit.tables import audit_log
from pstg.storage.database import create_engine
from pstg.storage.rows import to_micros
from tests.audit.conftest import ALICE, append, rows


def test_rows_chain_one_to_the_next(engine: Engine) -> None:
    written = append(engine, 3)
    stored = rows(engine)
    assert [row.id for row in stored] == [1, 2, 3]
    assert stored[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(stored):
        assert after.prev_hash == before.hash
        assert after.ts > before.ts
    for row, record_ in zip(stored, written, strict=True):
        assert row.hash == record_.hash == row_hash(hashed_values(row))
    first = written[0]
    assert (first.actor, first.role, first.via, first.source) == (
        "alice",
        "admin",
        "access_token",
        "127.0.2.7",
    )
    assert (first.action, first.target, first.result, first.detail) == (
        "test.action1",
        "thing:1",
        "ok",
        "",
    )
    assert (first.old_value, first.new_value) == ({"n": 0}, {"n": 1})
    assert stored[0].old_value == '{"n":0}'  # canonical JSON text, what the hash covers


def test_the_hash_is_the_documented_recipe(engine: Engine) -> None:
    import hashlib
    import json

    [written] = append(engine, 1)
    [row] = rows(engine)
    canonical = json.dumps(
        [
            row.id,
            row.ts,
            row.actor,
            row.role,
            row.via,
            row.source,
            row.action,
            row.target,
            row.old_value,
            row.new_value,
            row.result,
            row.detail,
            row.prev_hash,
        ],
        ensure_ascii=True,
        separators=(",", ":"),
    )
    assert written.hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_a_rolled_back_transaction_leaves_no_row_and_no_gap(engine: Engine) -> None:
    append(engine, 1)

    def act_and_fail() -> None:
        with engine.begin() as connection:
            record(connection, AuditEntry(ALICE, "test.lost"))
            raise RuntimeError("the action failed")

    with pytest.raises(RuntimeError, match="the action failed"):
        act_and_fail()
    append(engine, 1)
    assert [row.id for row in rows(engine)] == [1, 2]
    assert verify(engine).ok


def test_times_never_go_backwards(engine: Engine) -> None:
    late = datetime.now(UTC) + timedelta(hours=1)
    with engine.begin() as connection:
        first = record(connection, AuditEntry(ALICE, "test.clock"), now=late)
    with engine.begin() as connection:  # the clock stepped back
        second = record(connection, AuditEntry(ALICE, "test.clock"), now=late - timedelta(hours=2))
    assert second.ts == first.ts + timedelta(microseconds=1)


def test_text_from_clients_is_made_storable(engine: Engine) -> None:
    sneaky = Actor("eve\x00" + "x" * 500 + "\udcff", None, "password", "127.0.0.9")
    with engine.begin() as connection:
        written = record(
            connection,
            AuditEntry(sneaky, "login", "user:eve\x00", new={"name": "a\x00b"}, detail="\x00"),
        )
    assert "\x00" not in written.actor
    assert len(written.actor) == 128
    assert written.actor.endswith("...")
    assert written.target == "user:eve\ufffd"
    assert written.new_value == {"name": "a\x00b"}  # JSON escapes it
    assert verify(engine).ok


def test_actions_are_checked(engine: Engine) -> None:
    with pytest.raises(ValueError, match="1 to 64 characters"), engine.begin() as connection:
        record(connection, AuditEntry(ALICE, "x" * 65))


def test_the_cli_actor_is_the_os_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "opsuser")
    actor = cli_actor()
    assert (actor.name, actor.role, actor.via, actor.source) == ("opsuser", None, "cli", "cli")


def test_concurrent_writers_keep_one_chain(database_url: str, engine: Engine) -> None:
    """Four threads, each with an engine of its own (as separate processes would have),
    append at once; some do their own write in the transaction first, like an action."""
    per_thread = 25
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        own = create_engine(database_url)
        try:
            start.wait()
            for i in range(per_thread):
                with own.begin() as connection:
                    if n % 2:
                        connection.execute(sa.text("UPDATE audit_log SET id = id WHERE id < 0"))
                    record(connection, AuditEntry(ALICE, f"test.thread{n}", f"item:{i}"))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    result = verify(engine)
    assert result.ok, result.problems
    assert result.checked == 4 * per_thread
    assert [row.id for row in rows(engine)] == list(range(1, 4 * per_thread + 1))


def test_list_filters_and_pages(engine: Engine) -> None:
    bob = Actor("bob", "engineer", "password", "127.0.0.5")
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for n, (actor, action) in enumerate(
        [(ALICE, "login"), (bob, "login"), (ALICE, "user.add"), (bob, "token.create")]
    ):
        with engine.begin() as connection:
            record(connection, AuditEntry(actor, action), now=base + timedelta(minutes=n))
    every = list_entries(engine)
    assert [(e.id, e.actor, e.action) for e in every] == [
        (1, "alice", "login"),
        (2, "bob", "login"),
        (3, "alice", "user.add"),
        (4, "bob", "token.create"),
    ]
    assert [e.id for e in list_entries(engine, actor="bob")] == [2, 4]
    assert [e.id for e in list_entries(engine, action="login")] == [1, 2]
    assert [e.id for e in list_entries(engine, actor="alice", action="login")] == [1]
    span = list_entries(engine, start=base + timedelta(minutes=1), end=base + timedelta(minutes=3))
    assert [e.id for e in span] == [2, 3]
    assert [e.id for e in list_entries(engine, limit=2)] == [1, 2]
    assert [e.id for e in list_entries(engine, limit=2, after_id=2)] == [3, 4]
    assert every[0].ts == base
    with engine.connect() as connection:
        assert connection.execute(sa.select(audit_log.c.ts).limit(1)).scalar() == to_micros(base)
