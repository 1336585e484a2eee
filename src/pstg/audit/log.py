"""Appending to the audit log and reading it back.

Each row stores `hash` = SHA-256 over its own content and `prev_hash`, the previous row's
hash (64 zeros for the first row), so editing, deleting or moving a row breaks the chain
where it happened (pstg.audit.verify finds it). The hashed content is the canonical JSON of
the list

    [id, ts, actor, role, via, source, action, target, old_value, new_value, result, detail,
     prev_hash]

with the values as stored (`old_value` / `new_value` are JSON text, hashed as that text),
written by `json.dumps(..., ensure_ascii=True, separators=(",", ":"))`: ASCII only, no
spaces, so anyone can recompute it.

`record` appends inside the caller's transaction: the action and its audit row commit or
roll back together, so an action whose audit row cannot be written does not happen. Writers
are serialized (a transaction-scoped advisory lock on PostgreSQL, the database write lock on
SQLite) so the chain never forks; under that lock the new row takes the last id + 1 and a
time strictly after the last row's.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.audit.tables import audit_log
from pstg.model import utc_now
from pstg.storage.rows import from_micros, to_micros

Via = Literal["password", "access_token", "api_token", "session", "cli", "system"]
"""How the actor acted: logged in with a password, with an access or API token, on the
command line (with database access), or the gateway itself."""
Result = Literal["ok", "denied", "failed"]
"""ok: done; denied: refused for who the actor is (a failed login); failed: refused as asked
(e.g. an unknown user, the last admin) or could not be done."""

GENESIS_HASH = "0" * 64
"""The `prev_hash` of the first row."""
ADVISORY_LOCK_KEY = 0x7073_7467_6175_6474
"""pg_advisory_xact_lock key serializing audit writers on PostgreSQL ("pstgaudt")."""
PASSWORD_CHANGED = "(changed)"
"""What the log says instead of a password or a token."""

_LIMITS = {"actor": 128, "source": 256, "target": 256, "detail": 2000}
"""Longer text is cut: these fields can hold what a client typed (a login name)."""
_HASHED = (
    "id",
    "ts",
    "actor",
    "role",
    "via",
    "source",
    "action",
    "target",
    "old_value",
    "new_value",
    "result",
    "detail",
    "prev_hash",
)


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (by name, with their role) or the OS user running the CLI."""

    name: str
    role: str | None
    """The user's role now; None on the command line, which acts with database access."""
    via: Via
    source: str
    """The client's address, or "cli"."""


def cli_actor() -> Actor:
    """The person at the command line: the OS user name (who can open the database)."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor in /etc/passwd
        name = f"uid {os.getuid()}"
    return Actor(name, None, "cli", "cli")


@dataclass(frozen=True)
class AuditEntry:
    """An action to record. `old` and `new` are JSON values (never a password or token)."""

    actor: Actor
    action: str
    """A dotted verb: login, user.add, user.update, token.create, token.revoke, ..."""
    target: str = ""
    """What was acted on: user:NAME, token:ID, ..."""
    old: Any = None
    new: Any = None
    result: Result = "ok"
    detail: str = ""
    """Why it was refused or failed; free text."""


@dataclass(frozen=True)
class AuditRecord:
    """A stored row. `old_value` / `new_value` are the parsed JSON (the raw text if a row
    holds text that is not JSON)."""

    id: int
    ts: datetime
    actor: str
    role: str | None
    via: str
    source: str
    action: str
    target: str
    old_value: Any
    new_value: Any
    result: str
    detail: str
    prev_hash: str
    hash: str


def row_hash(values: Sequence[Any]) -> str:
    """The hash of a row given its hashed values, in `_HASHED` order; TypeError for a value
    JSON cannot hold (only a tampered SQLite row has one)."""
    text = json.dumps(list(values), ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def hashed_values(row: Any) -> list[Any]:
    """The values of a row (a mapping or a Row) that its hash covers, in order."""
    mapping = row if isinstance(row, dict) else row._mapping
    return [mapping[name] for name in _HASHED]


def record(
    connection: Connection, entry: AuditEntry, *, now: datetime | None = None
) -> AuditRecord:
    """Append `entry` in the connection's transaction, which the caller commits (with the
    action it records) or rolls back; `now` (default: the clock) dates it."""
    if len(entry.action) > 64 or not entry.action:
        raise ValueError(f"an audit action needs 1 to 64 characters, not {entry.action!r}")
    _lock(connection)
    last = connection.execute(
        sa.select(audit_log.c.id, audit_log.c.ts, audit_log.c.hash)
        .order_by(audit_log.c.id.desc())
        .limit(1)
    ).one_or_none()
    ts = to_micros(now or utc_now())
    if last is None:
        row_id, prev_hash = 1, GENESIS_HASH
    else:
        # Strictly increasing times: rows out of time order can only have been moved.
        row_id, prev_hash, ts = last.id + 1, last.hash, max(ts, last.ts + 1)
    values: dict[str, Any] = {
        "id": row_id,
        "ts": ts,
        "actor": _text(entry.actor.name, "actor"),
        "role": entry.actor.role,
        "via": entry.actor.via,
        "source": _text(entry.actor.source, "source"),
        "action": entry.action,
        "target": _text(entry.target, "target"),
        "old_value": _json(entry.old),
        "new_value": _json(entry.new),
        "result": entry.result,
        "detail": _text(entry.detail, "detail"),
        "prev_hash": prev_hash,
    }
    values["hash"] = row_hash(hashed_values(values))
    connection.execute(audit_log.insert().values(**values))
    return _record(values)


def _lock(connection: Connection) -> None:
    """Hold the audit write lock until the transaction ends, before reading the last row."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
        return
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        # pysqlite opens a transaction at the first write; one already open has written and
        # so holds the lock. Otherwise take it now, not at our INSERT: the last row read
        # before that could be stale.
        if not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    raise RuntimeError(
        f"the audit log works on SQLite and PostgreSQL, not on {connection.dialect.name}"
    )


def _text(value: str, field: str) -> str:
    # PostgreSQL refuses NUL and lone surrogates in text; a login name may hold either.
    cleaned = value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    limit = _LIMITS[field]
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"))


def _parse(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _record(row: Any) -> AuditRecord:
    values = row if isinstance(row, dict) else row._mapping
    return AuditRecord(
        id=values["id"],
        ts=from_micros(values["ts"]),
        actor=values["actor"],
        role=values["role"],
        via=values["via"],
        source=values["source"],
        action=values["action"],
        target=values["target"],
        old_value=_parse(values["old_value"]),
        new_value=_parse(values["new_value"]),
        result=values["result"],
        detail=values["detail"],
        prev_hash=values["prev_hash"],
        hash=values["hash"],
    )


def list_entries(
    engine: Engine,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 100,
    after_id: int | None = None,
) -> list[AuditRecord]:
    """Rows in id (= time) order: from `start` (inclusive) to `end` (exclusive), of one actor
    and one action when given, after the row `after_id` (to page on), at most `limit`."""
    query = sa.select(audit_log).order_by(audit_log.c.id).limit(limit)
    if start is not None:
        query = query.where(audit_log.c.ts >= to_micros(start))
    if end is not None:
        query = query.where(audit_log.c.ts < to_micros(end))
    if actor is not None:
        query = query.where(audit_log.c.actor == actor)
    if action is not None:
        query = query.where(audit_log.c.action == action)
    if after_id is not None:
        query = query.where(audit_log.c.id > after_id)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [_record(row) for row in rows]
