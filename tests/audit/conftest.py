"""Audit tests on both backends: helpers to write a small chain and to tamper with it in the
database, as someone with write access to the table would."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from pstg.audit import Actor, AuditEntry, AuditRecord, record
from pstg.audit.log import hashed_values, row_hash
from pstg.audit.tables import audit_log
from pstg.auth import passwords
from pstg.model import utc_now

ALICE = Actor("alice", "admin", "access_token", "127.0.2.7")


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


def append(engine: Engine, count: int, actor: Actor = ALICE) -> list[AuditRecord]:
    """`count` rows with distinct actions and targets, each in a transaction of its own,
    1 ms apart (so a test can date a made-up row between two)."""
    written = []
    start = utc_now()
    for n in range(count):
        with engine.begin() as connection:
            written.append(
                record(
                    connection,
                    AuditEntry(
                        actor,
                        f"test.action{n + 1}",
                        f"thing:{n + 1}",
                        old={"n": n},
                        new={"n": n + 1},
                    ),
                    now=start + timedelta(milliseconds=n),
                )
            )
    return written


def rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(audit_log).order_by(audit_log.c.id)).all())


def row(engine: Engine, row_id: int) -> dict[str, Any]:
    with engine.connect() as connection:
        found = connection.execute(sa.select(audit_log).where(audit_log.c.id == row_id)).one()
    return dict(found._mapping)


def update(engine: Engine, row_id: int, **values: Any) -> None:
    with engine.begin() as connection:
        connection.execute(audit_log.update().where(audit_log.c.id == row_id).values(**values))


def rehash(engine: Engine, row_id: int) -> None:
    """Recompute a row's hash from its (changed) content, as a careful forger would."""
    update(engine, row_id, hash=row_hash(hashed_values(row(engine, row_id))))


def delete(engine: Engine, *row_ids: int) -> None:
    with engine.begin() as connection:
        connection.execute(audit_log.delete().where(audit_log.c.id.in_(row_ids)))


def swap_ids(engine: Engine, first: int, second: int) -> None:
    """Exchange two whole rows' places in the chain (via a free id: the key is unique)."""
    with engine.begin() as connection:
        for old, new in ((first, -1), (second, first), (-1, second)):
            connection.execute(audit_log.update().where(audit_log.c.id == old).values(id=new))


def swap_fields(engine: Engine, first: int, second: int, *names: str) -> None:
    a, b = row(engine, first), row(engine, second)
    update(engine, first, **{name: b[name] for name in names})
    update(engine, second, **{name: a[name] for name in names})
