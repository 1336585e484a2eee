"""Browser sessions of the web console, kept server-side.

A session is started by a password login (POST /api/v1/auth/session) and lives in the
`sessions` table; the browser holds only its token, 256 random bits, in an HttpOnly cookie,
and the table holds only the token's SHA-256 (a copy of the database opens no session). A
session ends, whichever comes first:

- at logout (`ended_at`: the same cookie is refused from then on),
- `idle` after its last request (`last_seen_at`, written at most every `SEEN_EVERY`),
- `lifetime` after the login, however busy it is (a night shift, then log in again),
- when its user is disabled or gets a new password (the user's token key changes).

The CSRF token is derived from the session token (`csrf_token`): it is bound to the session,
needs nothing stored, and a page that cannot read the cookie cannot compute it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.auth.tables import sessions, users
from pstg.storage.rows import from_micros, to_micros

SEEN_EVERY = timedelta(seconds=30)
"""`last_seen_at` is written at most this often: not one database write per request. The
idle limit is so exact to within this much."""
TOKEN_PREFIX = "pstgs_"


class SessionRefused(Exception):
    """The cookie's session is unknown, ended, expired or its user may no longer log in."""

    def __init__(self, message: str, username: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.username = username


@dataclass(frozen=True)
class SessionInfo:
    id: int
    user_id: int
    username: str
    role: int
    created_at: datetime
    expires_at: datetime
    """The absolute end; the idle limit may end it earlier."""


def new_session_token() -> tuple[str, str]:
    """A fresh session token and the hash it is stored under."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_session_token(token)


def hash_session_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    """The CSRF token that unsafe requests of this session must send (X-CSRF-Token)."""
    digest = hmac.new(session_token.encode(), b"pstg csrf", hashlib.sha256).hexdigest()
    return digest[:43]


def csrf_matches(session_token: str, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(csrf_token(session_token), sent.strip())


def start(
    engine: Engine,
    *,
    user_id: int,
    token_key: str,
    source: str,
    now: datetime,
    lifetime: timedelta,
) -> tuple[str, SessionInfo]:
    """A new session for the user (after a successful password login): its token and record."""
    token, token_hash = new_session_token()
    expires = now + lifetime
    with engine.begin() as connection:
        name, role = connection.execute(
            sa.select(users.c.name, users.c.role).where(users.c.id == user_id)
        ).one()
        inserted = connection.execute(
            sessions.insert().values(
                user_id=user_id,
                token_hash=token_hash,
                token_key=token_key,
                source=source[:256],
                created_at=to_micros(now),
                last_seen_at=to_micros(now),
                expires_at=to_micros(expires),
            )
        )
        key = inserted.inserted_primary_key
        assert key is not None
        session_id = int(key[0])
    return token, SessionInfo(session_id, user_id, name, role, now, expires)


SESSION_BY_HASH = (
    sa.select(
        sessions.c.id,
        sessions.c.user_id,
        sessions.c.token_key,
        sessions.c.created_at,
        sessions.c.last_seen_at,
        sessions.c.expires_at,
        sessions.c.ended_at,
        users.c.name,
        users.c.role,
        users.c.enabled,
        users.c.token_key.label("user_token_key"),
    )
    .join(users, users.c.id == sessions.c.user_id)
    .where(sessions.c.token_hash == sa.bindparam("token_hash"))
)
"""What a session's check reads (the session and its user, now)."""


def check(engine: Engine, token: str, *, now: datetime, idle: timedelta) -> SessionInfo:
    """The live session of `token`, its last use brought up to date; SessionRefused when it
    is unknown, ended, expired (idle or absolute) or its user disabled or given a new
    password."""
    token_hash = hash_for_check(token)
    with engine.connect() as connection:
        row = connection.execute(SESSION_BY_HASH, {"token_hash": token_hash}).one_or_none()
    info, write_due = judge(row, now=now, idle=idle)
    if write_due:
        with engine.begin() as connection:
            seen = sessions.update().where(sessions.c.id == info.id)
            connection.execute(seen.values(last_seen_at=to_micros(now)))
    return info


def hash_for_check(token: str) -> str:
    """The hash a cookie's session is stored under; SessionRefused for what cannot be one."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise SessionRefused("invalid session")
    return hash_session_token(token)


def judge(row: Any, *, now: datetime, idle: timedelta) -> tuple[SessionInfo, bool]:
    """The session of a `SESSION_BY_HASH` row (None: unknown), and whether its last use is
    due to be written; SessionRefused when it may not be used."""
    if row is None:
        raise SessionRefused("unknown session: log in again")
    name = row.name
    if row.ended_at is not None:
        raise SessionRefused("this session was logged out: log in again", name)
    if from_micros(row.expires_at) <= now:
        raise SessionRefused("the session has reached its time limit: log in again", name)
    last_seen = from_micros(row.last_seen_at)
    if last_seen + idle <= now:
        raise SessionRefused("the session was idle too long: log in again", name)
    if row.user_token_key is None or not hmac.compare_digest(
        row.user_token_key.encode(), row.token_key.encode()
    ):
        raise SessionRefused("the password changed since this login: log in again", name)
    if not row.enabled:
        raise SessionRefused(f"user {name!r} is disabled", name)
    info = SessionInfo(
        row.id, row.user_id, name, row.role, from_micros(row.created_at),
        from_micros(row.expires_at),
    )  # fmt: skip
    return info, now - last_seen >= SEEN_EVERY


def end(connection: Connection, token: str, *, now: datetime) -> SessionInfo | None:
    """End the session of `token` (logout) in the caller's transaction; the ended session, or
    None when there was no live one."""
    token_hash = hash_session_token(token)
    row = connection.execute(
        sa.select(
            sessions.c.id, sessions.c.user_id, sessions.c.created_at, sessions.c.expires_at,
            users.c.name, users.c.role,
        )
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.token_hash == token_hash, sessions.c.ended_at.is_(None))
    ).one_or_none()  # fmt: skip
    if row is None:
        return None
    connection.execute(
        sessions.update().where(sessions.c.id == row.id).values(ended_at=to_micros(now))
    )
    return SessionInfo(
        row.id, row.user_id, row.name, row.role, from_micros(row.created_at),
        from_micros(row.expires_at),
    )  # fmt: skip


def purge(engine: Engine, *, now: datetime, keep: timedelta = timedelta(days=30)) -> int:
    """Delete sessions that ended or expired more than `keep` ago; how many."""
    cutoff = to_micros(now - keep)
    with engine.begin() as connection:
        result = connection.execute(
            sessions.delete().where(
                sa.or_(sessions.c.expires_at < cutoff, sessions.c.ended_at < cutoff)
            )
        )
    return result.rowcount or 0
