"""Who is asking: password logins, access tokens (JWT) and API tokens checked against the
database.

Each check reads the user's row now, so disabling a user, changing a role or revoking an API
token applies to the very next request, whatever tokens are in circulation. The service is
synchronous (SQLAlchemy and argon2 block): the API calls it in a worker thread, except the
token and session checks' reads, which `authenticate_on_loop` and
`authenticate_session_on_loop` make on the event loop (pstg.auth.loop_reads) with the same
statements and the same judgement.

Failed logins are throttled per (typed user name, client address) in the process
(pstg.auth.throttle): the check and the count are one step, so a parallel burst gets no more
checks than the limit. Every refused login looks the same from outside, whether the name
exists or not: a name that does not exist still costs one password hash, a disabled user
with the right password is refused like a wrong password (401, `BAD_LOGIN`), and a
throttled pair gets 429 (`THROTTLED`, with Retry-After) whatever the name. The service never
sleeps; the API answers every refused login at the same delay.

Every login attempt is audited (pstg.audit, action `login`): a success in the transaction
that records it on the user, a refusal as `denied` with the reason, through the rate limit
of pstg.audit.refusals (like refused tokens, kind `token`).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.audit import Actor, AuditEntry, Result, record
from pstg.audit.refusals import RefusalAudit
from pstg.auth import sessions
from pstg.auth.loop_reads import LoopReads, ReadUnavailable
from pstg.auth.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from pstg.auth.roles import Role
from pstg.auth.secret import check_secret
from pstg.auth.sessions import SessionInfo
from pstg.auth.tables import api_tokens, users
from pstg.auth.throttle import LoginThrottle, lockout_window, throttle_key
from pstg.auth.tokens import (
    AccessClaims,
    InvalidToken,
    decode_access_token,
    encode_access_token,
    hash_api_token,
    is_api_token,
)
from pstg.auth.users import MAX_ID, USER_NAME
from pstg.model import EventKind, utc_now
from pstg.storage import events as journal_events
from pstg.storage.rows import from_micros, to_micros

__all__ = ["AuthError", "AuthService", "Principal", "lockout_window"]

logger = logging.getLogger(__name__)

LAST_USED_EVERY = timedelta(seconds=60)
"""An API token's `last_used_at` is written at most this often: not one write per request."""
USER_BY_ID = sa.select(users.c.name, users.c.role, users.c.enabled, users.c.token_key).where(
    users.c.id == sa.bindparam("user_id")
)
"""What an access token's check reads (its user, now)."""
API_TOKEN_BY_HASH = (
    sa.select(
        api_tokens.c.id,
        api_tokens.c.expires_at,
        api_tokens.c.revoked_at,
        api_tokens.c.last_used_at,
        api_tokens.c.role.label("token_role"),
        users.c.id.label("user_id"),
        users.c.name.label("username"),
        users.c.role,
        users.c.enabled,
    )
    .join(users, users.c.id == api_tokens.c.user_id)
    .where(api_tokens.c.token_hash == sa.bindparam("token_hash"))
)
"""What an API token's check reads (the token and its user, now)."""
BAD_LOGIN = "invalid user name or password"
THROTTLED = "too many failed logins for this user name from this address: try again in {} s"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the user, with the role the database gives them now."""

    username: str
    role: Role
    user_id: int
    via: Literal["password", "access_token", "api_token", "session"]
    token_id: int | None = None
    """The API token's id when `via` is "api_token"; the session's when "session"."""
    token_key: str | None = field(default=None, repr=False)
    """The user's token key, for issuing an access token after a password login."""


class AuthError(Exception):
    """A refused login or token: `status` is the HTTP status the API answers with (401 not
    authenticated, 403 not allowed, 429 throttled) and `message` says why."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        retry_after: int | None = None,
        username: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
        """For 429: seconds until the throttle lets the next attempt be checked."""
        self.username = username
        """For a refused token: the user it names, when it names one (for the audit)."""


class AuthService:
    def __init__(
        self,
        engine: Engine,
        *,
        secret: str,
        access_minutes: float = 15.0,
        session_lifetime: timedelta = timedelta(hours=12),
        session_idle: timedelta = timedelta(minutes=30),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """`secret` signs access tokens (see pstg.auth.secret.load_or_create_secret; at least
        32 bytes); access tokens live `access_minutes`; browser sessions end
        `session_lifetime` after the login or `session_idle` after their last request;
        `clock` gives the time (tests)."""
        check_secret(secret)
        if not access_minutes > 0:
            raise ValueError(f"access_minutes must be positive, not {access_minutes}")
        self.engine = engine
        self._secret = secret
        self.access_lifetime = timedelta(minutes=access_minutes)
        self.session_lifetime = session_lifetime
        self.session_idle = session_idle
        self.clock = clock
        self.throttle = LoginThrottle()
        self.refusals = RefusalAudit(engine)
        """Refused logins, tokens, roles and actions in the audit log, rate-limited."""
        self.loop_reads = LoopReads(engine)
        """Token and session checks on the event loop (`authenticate_on_loop`)."""

    def login(self, username: str, password: str, *, source: str = "unknown") -> Principal:
        """The user whose name and password these are; AuthError(401) for any refusal, or
        (429) when the name is throttled from this address.

        `source` is the client's address (the throttle's key with the name, and the audit's)."""
        now = self.clock()
        key = throttle_key(username, source)
        refused = self.throttle.begin(key, now)
        if refused is not None:
            detail = f"throttled after {refused.failures} failed logins from this address"
            self._audit_login(username, None, source, now, "denied", detail)
            message = THROTTLED.format(refused.retry_after)
            raise AuthError(429, message, retry_after=refused.retry_after)
        settled = False
        try:
            row = None
            if USER_NAME.fullmatch(username) is not None:  # else no such user can exist
                with self.engine.connect() as connection:
                    row = connection.execute(
                        sa.select(users).where(users.c.name == username)
                    ).one_or_none()
            if row is None:
                verify_password(dummy_hash(), password)  # as slow as a wrong password
                self.throttle.failed(key, now)
                settled = True
                self._audit_login(username, None, source, now, "denied", "no such user")
                raise AuthError(401, BAD_LOGIN)
            role = Role(row.role).label
            matches = verify_password(row.password_hash, password)
            if not matches or not row.enabled:
                self.throttle.failed(key, now)
                settled = True
                with self.engine.begin() as connection:
                    connection.execute(
                        users.update()
                        .where(users.c.id == row.id)
                        .values(
                            failed_logins=users.c.failed_logins + 1, last_failed_at=to_micros(now)
                        )
                    )
                detail = "wrong password" if not matches else "the user is disabled"
                self._audit_login(row.name, role, source, now, "denied", detail)
                raise AuthError(401, BAD_LOGIN)
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
            self.throttle.succeeded(key)
            settled = True
            return Principal(row.name, Role(row.role), row.id, "password", token_key=row.token_key)
        finally:
            if not settled:
                self.throttle.abandon(key)

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
        """Record a login attempt: a success in `connection`'s transaction, a refusal through
        the refusal rate limit (with its events-journal row, or neither)."""
        entry = AuditEntry(
            Actor(username, role, "password", source),
            "login",
            f"user:{username}",
            result=result,
            detail=detail,
        )
        if result == "ok" and connection is not None:
            self._record_login(connection, entry, now)
            return
        self.refusals.record(
            "login", entry, now=now, also=lambda own: self._login_event(own, entry, now)
        )

    @classmethod
    def _record_login(cls, connection: Connection, entry: AuditEntry, now: datetime) -> None:
        """The audit row, and the same attempt in the events journal."""
        record(connection, entry, now=now)
        cls._login_event(connection, entry, now)

    @staticmethod
    def _login_event(connection: Connection, entry: AuditEntry, now: datetime) -> None:
        succeeded = entry.result == "ok"
        kind = EventKind.LOGIN_SUCCEEDED if succeeded else EventKind.LOGIN_FAILED
        message = f"login from {entry.actor.source}" + ("" if succeeded else f": {entry.detail}")
        # A guessed name may hold anything, even NUL, which PostgreSQL text cannot store.
        name = entry.actor.name.replace("\x00", "\\x00")[:128]
        journal_events.insert_events(
            connection,
            [
                journal_events.row(
                    ts=to_micros(now), station_id=None, kind=kind.value, source=name,
                    message=message, attributes={"source": entry.actor.source},
                )
            ],
        )  # fmt: skip

    def issue_access_token(self, principal: Principal) -> tuple[str, int]:
        """A signed access token for `principal` (of a password login) and its lifetime in
        seconds."""
        if principal.token_key is None:
            raise ValueError("access tokens are issued after a password login only")
        token = encode_access_token(
            secret=self._secret,
            username=principal.username,
            user_id=principal.user_id,
            token_key=principal.token_key,
            role=principal.role,
            issued_at=self.clock(),
            lifetime=self.access_lifetime,
        )
        return token, int(self.access_lifetime.total_seconds())

    def start_session(self, principal: Principal, source: str) -> tuple[str, SessionInfo]:
        """A browser session for `principal` (of a password login): the cookie's token and
        the session (pstg.auth.sessions). Sessions that ended long ago are purged here."""
        if principal.token_key is None:
            raise ValueError("sessions are started after a password login only")
        now = self.clock()
        sessions.purge(self.engine, now=now)
        return sessions.start(
            self.engine, user_id=principal.user_id, token_key=principal.token_key,
            source=source, now=now, lifetime=self.session_lifetime,
        )  # fmt: skip

    def authenticate_session(self, token: str) -> Principal:
        """The caller a session cookie stands for; AuthError(401) when the session is
        unknown, logged out, expired or its user may no longer log in."""
        try:
            info = sessions.check(self.engine, token, now=self.clock(), idle=self.session_idle)
        except sessions.SessionRefused as exc:
            raise AuthError(401, exc.message, username=exc.username) from None
        return _session_principal(info)

    async def authenticate_session_on_loop(self, token: str) -> Principal | None:
        """What `authenticate_session` answers, read on the event loop (pstg.auth.loop_reads);
        None when that read is not available now or the session's last use is due to be
        written: then call `authenticate_session` in a worker thread."""
        try:
            row = await self.loop_reads.fetch(
                sessions.SESSION_BY_HASH, token_hash=sessions.hash_for_check(token)
            )
            info, write_due = sessions.judge(row, now=self.clock(), idle=self.session_idle)
        except ReadUnavailable:
            return None
        except sessions.SessionRefused as exc:
            raise AuthError(401, exc.message, username=exc.username) from None
        return None if write_due else _session_principal(info)

    def end_session(self, token: str, actor: Actor) -> SessionInfo | None:
        """Log the session of `token` out (it cannot be used again), audited as `logout` in
        the same transaction; None when it was not a live session."""
        now = self.clock()
        with self.engine.begin() as connection:
            info = sessions.end(connection, token, now=now)
            if info is not None:
                record(connection, AuditEntry(actor, "logout", f"session:{info.id}"), now=now)
        return info

    def authenticate(self, bearer: str) -> Principal:
        """The caller a bearer token (access or API token) stands for; AuthError(401) when it
        is unknown, expired, revoked, ended by a new password, or its user is gone or
        disabled."""
        if is_api_token(_present(bearer)):
            with self.engine.connect() as connection:
                row = connection.execute(
                    API_TOKEN_BY_HASH, {"token_hash": hash_api_token(bearer)}
                ).one_or_none()
            principal, used_at = self._judge_api_token(row)
            if used_at is not None:
                self._touch(principal.token_id, used_at)
            return principal
        claims = self._claims(bearer)
        with self.engine.connect() as connection:
            row = connection.execute(USER_BY_ID, {"user_id": claims.user_id}).one_or_none()
        return _judge_access(claims, row)

    async def authenticate_on_loop(self, bearer: str) -> Principal | None:
        """What `authenticate` answers, read on the event loop (pstg.auth.loop_reads); None
        when that read is not available now or an API token's last use is due to be
        written: then call `authenticate` in a worker thread."""
        try:
            if is_api_token(_present(bearer)):
                row = await self.loop_reads.fetch(
                    API_TOKEN_BY_HASH, token_hash=hash_api_token(bearer)
                )
                principal, used_at = self._judge_api_token(row)
                return principal if used_at is None else None
            claims = self._claims(bearer)
            row = await self.loop_reads.fetch(USER_BY_ID, user_id=claims.user_id)
        except ReadUnavailable:
            return None
        return _judge_access(claims, row)

    def _claims(self, bearer: str) -> AccessClaims:
        """The claims of a well-signed, unexpired access token naming a possible user id."""
        try:
            claims = decode_access_token(bearer, secret=self._secret)
        except InvalidToken:
            raise AuthError(401, "invalid access token") from None
        name = claims.username
        if claims.expires_at <= self.clock():
            raise AuthError(401, "access token expired: log in again", username=name)
        if not 1 <= claims.user_id <= MAX_ID:
            raise AuthError(401, "invalid access token", username=name)
        return claims

    def _judge_api_token(self, row: Any) -> tuple[Principal, datetime | None]:
        """The principal of an API token's row (None: unknown token), and the time to write
        as its last use when that is due (else None)."""
        now = self.clock()
        if row is None:
            raise AuthError(401, "unknown API token")
        name = row.username
        if row.revoked_at is not None:
            raise AuthError(401, f"API token {row.id} has been revoked", username=name)
        if row.expires_at is not None and from_micros(row.expires_at) <= now:
            raise AuthError(401, f"API token {row.id} has expired", username=name)
        if not row.enabled:
            raise AuthError(401, f"user {name!r} is disabled", username=name)
        due = row.last_used_at is None or now - from_micros(row.last_used_at) >= LAST_USED_EVERY
        # A token's own role caps its user's (who may have been demoted since).
        role = Role(row.role)
        if row.token_role is not None:
            role = min(role, Role(row.token_role))
        return Principal(name, role, row.user_id, "api_token", row.id), now if due else None

    def _touch(self, token_id: int | None, now: datetime) -> None:
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


def _present(bearer: str) -> str:
    if not bearer:
        raise AuthError(401, "missing bearer token")
    return bearer


def _judge_access(claims: AccessClaims, row: Any) -> Principal:
    """The principal of a valid access token, given its user's row as it is now (None: no
    such user)."""
    name = claims.username
    if row is None or row.name != name or row.token_key is None:
        raise AuthError(401, f"user {name!r} no longer exists", username=name)
    if not hmac.compare_digest(row.token_key.encode(), claims.token_key.encode()):
        # A new password since (or a user made anew under an old id and name).
        raise AuthError(
            401, "access token no longer valid (the password changed): log in again",
            username=name,
        )  # fmt: skip
    if not row.enabled:
        raise AuthError(401, f"user {row.name!r} is disabled", username=name)
    return Principal(row.name, Role(row.role), claims.user_id, "access_token")


def _session_principal(info: SessionInfo) -> Principal:
    return Principal(info.username, Role(info.role), info.user_id, "session", info.id)
