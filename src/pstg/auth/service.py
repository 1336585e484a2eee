"""Who is asking: password logins, access tokens (JWT) and API tokens checked against the
database.

Each check reads the user's row now, so disabling a user, changing a role or revoking an API
token applies to the very next request, whatever tokens are in circulation. The service is
synchronous (SQLAlchemy and argon2 block): the API calls it in a worker thread.

Failed logins are counted per user name in the database (shared by every process). After
`LOCKOUT_AFTER` consecutive failures, attempts within a lockout window are refused (429)
without looking at the password; the window starts at 30 s and doubles with each further
failure, up to 15 minutes. A successful login, a new password or re-enabling the user resets
the count. The service never sleeps; the API delays each failed answer instead.

Every login attempt is audited (pstg.audit, action `login`): a success in the transaction
that records it on the user, a refusal as `denied` with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.audit import Actor, AuditEntry, Result, record
from pstg.auth.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from pstg.auth.roles import Role
from pstg.auth.secret import check_secret
from pstg.auth.tables import api_tokens, users
from pstg.auth.tokens import (
    InvalidToken,
    decode_access_token,
    encode_access_token,
    hash_api_token,
    is_api_token,
)
from pstg.auth.users import MAX_ID, USER_NAME
from pstg.model import EventKind, utc_now
from pstg.storage.rows import from_micros, to_micros
from pstg.storage.schema import events as events_table

logger = logging.getLogger(__name__)

LOCKOUT_AFTER = 5
LOCKOUT_FIRST = timedelta(seconds=30)
LOCKOUT_MAX = timedelta(minutes=15)
LAST_USED_EVERY = timedelta(seconds=60)
"""An API token's `last_used_at` is written at most this often: not one write per request."""
BAD_LOGIN = "invalid user name or password"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the user, with the role the database gives them now."""

    username: str
    role: Role
    user_id: int
    via: Literal["password", "access_token", "api_token"]
    token_id: int | None = None
    """The API token's id when `via` is "api_token"."""


class AuthError(Exception):
    """A refused login or token: `status` is the HTTP status the API answers with (401 not
    authenticated, 403 not allowed, 429 locked out) and `message` says why."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
        """For 429: seconds until the lockout ends."""


def lockout_window(failed_logins: int) -> timedelta | None:
    """How long after the last failure a user with this many consecutive failures is locked."""
    if failed_logins < LOCKOUT_AFTER:
        return None
    doublings = min(failed_logins - LOCKOUT_AFTER, 10)  # 30 s * 2**5 passes 15 min already
    return min(LOCKOUT_FIRST * (1 << doublings), LOCKOUT_MAX)


class AuthService:
    def __init__(
        self,
        engine: Engine,
        *,
        secret: str,
        access_minutes: float = 15.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """`secret` signs access tokens (see pstg.auth.secret.load_or_create_secret; at least
        32 bytes); access tokens live `access_minutes`; `clock` gives the time (tests)."""
        check_secret(secret)
        if not access_minutes > 0:
            raise ValueError(f"access_minutes must be positive, not {access_minutes}")
        self.engine = engine
        self._secret = secret
        self.access_lifetime = timedelta(minutes=access_minutes)
        self.clock = clock

    def login(self, username: str, password: str, *, source: str = "unknown") -> Principal:
        """The user whose name and password these are; AuthError(401) or, locked, (429).

        `source` is the client's address, for the audit log."""
        now = self.clock()
        row = None
        if USER_NAME.fullmatch(username) is not None:  # else no such user can exist
            with self.engine.connect() as connection:
                row = connection.execute(
                    sa.select(users).where(users.c.name == username)
                ).one_or_none()
        if row is None:
            verify_password(dummy_hash(), password)  # as slow as a wrong password
            self._audit_login(username, None, source, now, "denied", "no such user")
            raise AuthError(401, BAD_LOGIN)
        role = Role(row.role).label
        window = lockout_window(row.failed_logins)
        if window is not None and row.last_failed_at is not None:
            remaining = from_micros(row.last_failed_at) + window - now
            if remaining > timedelta(0):
                seconds = max(1, int(remaining.total_seconds() + 0.999))
                detail = f"locked after {row.failed_logins} failed logins"
                self._audit_login(row.name, role, source, now, "denied", detail)
                raise AuthError(
                    429,
                    f"too many failed logins for {username!r}: try again in {seconds} s",
                    retry_after=seconds,
                )
        if not verify_password(row.password_hash, password):
            with self.engine.begin() as connection:
                connection.execute(
                    users.update()
                    .where(users.c.id == row.id)
                    .values(failed_logins=users.c.failed_logins + 1, last_failed_at=to_micros(now))
                )
                self._audit_login(
                    row.name, role, source, now, "denied", "wrong password", connection
                )
            raise AuthError(401, BAD_LOGIN)
        if not row.enabled:
            self._audit_login(row.name, role, source, now, "denied", "the user is disabled")
            raise AuthError(401, f"user {username!r} is disabled")
        values: dict[str, Any] = {
            "last_login_at": to_micros(now),
            "failed_logins": 0,
            "last_failed_at": None,
        }
        if needs_rehash(row.password_hash):
            values["password_hash"] = hash_password(password)
        with self.engine.begin() as connection:
            connection.execute(users.update().where(users.c.id == row.id).values(**values))
            self._audit_login(row.name, role, source, now, "ok", "", connection)
        return Principal(row.name, Role(row.role), row.id, "password")

    def _audit_login(
        self,
        username: str,
        role: str | None,
        source: str,
        now: datetime,
        result: Result,
        detail: str,
        connection: Connection | None = None,
    ) -> None:
        """Record a login attempt, in `connection`'s transaction or in one of its own."""
        entry = AuditEntry(
            Actor(username, role, "password", source),
            "login",
            f"user:{username}",
            result=result,
            detail=detail,
        )
        if connection is not None:
            self._record_login(connection, entry, now)
            return
        with self.engine.begin() as own:
            self._record_login(own, entry, now)

    @staticmethod
    def _record_login(connection: Connection, entry: AuditEntry, now: datetime) -> None:
        """The audit row, and the same attempt in the events journal."""
        record(connection, entry, now=now)
        succeeded = entry.result == "ok"
        kind = EventKind.LOGIN_SUCCEEDED if succeeded else EventKind.LOGIN_FAILED
        message = f"login from {entry.actor.source}" + ("" if succeeded else f": {entry.detail}")
        # A guessed name may hold anything, even NUL, which PostgreSQL text cannot store.
        name = entry.actor.name.replace("\x00", "\\x00")[:128]
        connection.execute(
            sa.insert(events_table).values(
                ts=to_micros(now), station_id=None, kind=kind.value, source=name,
                message=message, attributes={"source": entry.actor.source},
            )
        )  # fmt: skip

    def issue_access_token(self, principal: Principal) -> tuple[str, int]:
        """A signed access token for `principal` and its lifetime in seconds."""
        token = encode_access_token(
            secret=self._secret,
            username=principal.username,
            user_id=principal.user_id,
            role=principal.role,
            issued_at=self.clock(),
            lifetime=self.access_lifetime,
        )
        return token, int(self.access_lifetime.total_seconds())

    def authenticate(self, bearer: str) -> Principal:
        """The caller a bearer token (access or API token) stands for; AuthError(401) when it
        is unknown, expired, revoked, or its user is gone or disabled."""
        if not bearer:
            raise AuthError(401, "missing bearer token")
        if is_api_token(bearer):
            return self._api_token(bearer)
        try:
            claims = decode_access_token(bearer, secret=self._secret)
        except InvalidToken:
            raise AuthError(401, "invalid access token") from None
        if claims.expires_at <= self.clock():
            raise AuthError(401, "access token expired: log in again")
        if not 1 <= claims.user_id <= MAX_ID:
            raise AuthError(401, "invalid access token")
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(users.c.name, users.c.role, users.c.enabled).where(
                    users.c.id == claims.user_id
                )
            ).one_or_none()
        if row is None or row.name != claims.username:
            raise AuthError(401, f"user {claims.username!r} no longer exists")
        if not row.enabled:
            raise AuthError(401, f"user {row.name!r} is disabled")
        return Principal(row.name, Role(row.role), claims.user_id, "access_token")

    def _api_token(self, bearer: str) -> Principal:
        now = self.clock()
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(
                    api_tokens.c.id,
                    api_tokens.c.expires_at,
                    api_tokens.c.revoked_at,
                    api_tokens.c.last_used_at,
                    users.c.id.label("user_id"),
                    users.c.name.label("username"),
                    users.c.role,
                    users.c.enabled,
                )
                .join(users, users.c.id == api_tokens.c.user_id)
                .where(api_tokens.c.token_hash == hash_api_token(bearer))
            ).one_or_none()
        if row is None:
            raise AuthError(401, "unknown API token")
        if row.revoked_at is not None:
            raise AuthError(401, f"API token {row.id} has been revoked")
        if row.expires_at is not None and from_micros(row.expires_at) <= now:
            raise AuthError(401, f"API token {row.id} has expired")
        if not row.enabled:
            raise AuthError(401, f"user {row.username!r} is disabled")
        if row.last_used_at is None or now - from_micros(row.last_used_at) >= LAST_USED_EVERY:
            self._touch(row.id, now)
        return Principal(row.username, Role(row.role), row.user_id, "api_token", row.id)

    def _touch(self, token_id: int, now: datetime) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    api_tokens.update()
                    .where(api_tokens.c.id == token_id)
                    .values(last_used_at=to_micros(now))
                )
        except sa.exc.OperationalError as exc:
            # Only bookkeeping: a busy database must not refuse a valid token.
            logger.warning("could not record the use of API token %s: %s", token_id, exc)
