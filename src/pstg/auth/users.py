"""Users and API tokens in the database: what `pstg users`, `pstg token` and the admin API do.

Every function takes the engine and runs in one transaction of its own, or in the caller's
when given `connection=` (so that pstg.auth.admin commits the change with its audit row).
Problems a caller can fix (a bad name, a short password, an unknown user) raise `UserError`
(a ValueError) with a message meant for the person who typed the input; `UnknownUser`,
`DuplicateUser` and `UnknownToken` narrow it so the API can answer 404 or 409.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.auth.passwords import check_password_rules, hash_password
from pstg.auth.roles import Role
from pstg.auth.tables import api_tokens, users
from pstg.auth.tokens import new_api_token, new_token_key
from pstg.model import utc_now
from pstg.storage.rows import from_micros, to_micros

USER_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,64}")
MAX_TOKEN_NAME = 64
MAX_ID = 2**63 - 1
"""Larger ids cannot exist, and the databases refuse to compare with them."""


class UserError(ValueError):
    """A user or token request that cannot be done as asked; the message says why."""


class UnknownUser(UserError):
    pass


class DuplicateUser(UserError):
    pass


class UnknownToken(UserError):
    pass


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    role: Role
    enabled: bool
    created_at: datetime
    last_login_at: datetime | None
    failed_logins: int
    """Failed logins since the last successful one, from anywhere (for information: the
    throttle counts per name and address, pstg.auth.throttle)."""


@dataclass(frozen=True)
class ApiTokenInfo:
    id: int
    username: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    role: Role | None = None
    """The token's own role, which caps its user's; None: the user's role."""

    def status(self, now: datetime) -> Literal["active", "revoked", "expired"]:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def check_user_name(name: str) -> None:
    if USER_NAME.fullmatch(name) is None:
        raise UserError(f"invalid user name {name!r}: use 1 to 64 letters, digits, '_', '.' or '-'")


def _check_password(password: str, name: str) -> None:
    try:
        check_password_rules(password, name)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _role(role: Role | str) -> Role:
    if isinstance(role, Role):
        return role
    try:
        return Role.parse(role)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _time(micros: int | None) -> datetime | None:
    return None if micros is None else from_micros(micros)


@contextmanager
def _transaction(engine: Engine, connection: Connection | None) -> Iterator[Connection]:
    """The caller's connection (its transaction), else a transaction of our own."""
    if connection is not None:
        yield connection
        return
    with engine.begin() as own:
        yield own


def _user_info(row: Any) -> UserInfo:
    return UserInfo(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        enabled=bool(row.enabled),
        created_at=from_micros(row.created_at),
        last_login_at=_time(row.last_login_at),
        failed_logins=row.failed_logins,
    )


def add_user(
    engine: Engine,
    name: str,
    password: str,
    role: Role | str,
    *,
    connection: Connection | None = None,
) -> UserInfo:
    """Create an enabled user; UserError for a bad name or password, DuplicateUser if taken.

    Names are unique regardless of case ("Bob" and "bob" would only confuse people), and
    matched exactly at login.
    """
    check_user_name(name)
    _check_password(password, name)
    parsed = _role(role)
    password_hash = hash_password(password)
    now = to_micros(utc_now())
    try:
        with _transaction(engine, connection) as writing:
            taken = writing.execute(
                sa.select(users.c.name).where(sa.func.lower(users.c.name) == name.lower())
            ).scalar_one_or_none()
            if taken is not None:
                raise DuplicateUser(f"user {taken!r} already exists")
            writing.execute(
                users.insert().values(
                    name=name,
                    password_hash=password_hash,
                    role=int(parsed),
                    enabled=True,
                    created_at=now,
                    updated_at=now,
                    failed_logins=0,
                    token_key=new_token_key(),
                )
            )
            return _user_info(_user_row(writing, name))
    except sa.exc.IntegrityError:
        raise DuplicateUser(f"user {name!r} already exists") from None


def get_user(engine: Engine, name: str, *, connection: Connection | None = None) -> UserInfo:
    if connection is not None:
        return _user_info(_user_row(connection, name))
    with engine.connect() as reading:
        return _user_info(_user_row(reading, name))


def list_users(engine: Engine) -> list[UserInfo]:
    """Every user, by name."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(users).order_by(users.c.name)).all()
    return [_user_info(row) for row in rows]


def _user_row(connection: Connection, name: str) -> Any:
    if USER_NAME.fullmatch(name) is None:
        # No such user can exist; and PostgreSQL would refuse a name with a NUL in it.
        raise UnknownUser(f"no user {name!r}")
    row = connection.execute(sa.select(users).where(users.c.name == name)).one_or_none()
    if row is None:
        raise UnknownUser(f"no user {name!r}")
    return row


def update_user(
    engine: Engine,
    name: str,
    *,
    role: Role | str | None = None,
    enabled: bool | None = None,
    password: str | None = None,
    connection: Connection | None = None,
) -> UserInfo:
    """Change any of role, enabled and password at once (all or nothing).

    A new password or enabling a user also clears the failed-login count; a new password
    also gives the user a new token key, which ends every access token issued before it. The
    last enabled admin cannot be disabled or demoted: nobody could manage users through the
    API afterwards (`pstg users` on the database still could).
    """
    new_role = None if role is None else _role(role)
    values: dict[str, Any] = {}
    if password is not None:
        _check_password(password, name)
        values["password_hash"] = hash_password(password)
        # Access tokens carry the key: a new one ends every access token issued before.
        values["token_key"] = new_token_key()
    with _transaction(engine, connection) as writing:
        row = _user_row(writing, name)
        if new_role is not None:
            values["role"] = int(new_role)
        if enabled is not None:
            values["enabled"] = enabled
        if password is not None or enabled:
            values.update(failed_logins=0, last_failed_at=None)
        stays_admin = (new_role or Role(row.role)) == Role.ADMIN and (
            enabled if enabled is not None else row.enabled
        )
        if row.enabled and row.role == Role.ADMIN and not stays_admin:
            others = writing.execute(
                sa.select(sa.func.count())
                .select_from(users)
                .where(users.c.role == int(Role.ADMIN), users.c.enabled, users.c.id != row.id)
            ).scalar_one()
            if others == 0:
                raise UserError(
                    f"{name!r} is the last enabled admin: add or enable another admin first"
                )
        if values:
            values["updated_at"] = to_micros(utc_now())
            writing.execute(users.update().where(users.c.id == row.id).values(**values))
        return _user_info(_user_row(writing, name))


def set_password(engine: Engine, name: str, password: str) -> UserInfo:
    return update_user(engine, name, password=password)


def set_enabled(engine: Engine, name: str, enabled: bool) -> UserInfo:
    return update_user(engine, name, enabled=enabled)


def set_role(engine: Engine, name: str, role: Role | str) -> UserInfo:
    return update_user(engine, name, role=role)


def _token_query() -> sa.Select[Any]:
    return sa.select(api_tokens, users.c.name.label("username")).join(
        users, users.c.id == api_tokens.c.user_id
    )


def _token_info(row: Any) -> ApiTokenInfo:
    return ApiTokenInfo(
        id=row.id,
        username=row.username,
        name=row.name,
        created_at=from_micros(row.created_at),
        expires_at=_time(row.expires_at),
        revoked_at=_time(row.revoked_at),
        last_used_at=_time(row.last_used_at),
        role=None if row.role is None else Role(row.role),
    )


def create_api_token(
    engine: Engine,
    username: str,
    name: str,
    expires_at: datetime | None = None,
    *,
    role: Role | str | None = None,
    connection: Connection | None = None,
) -> tuple[ApiTokenInfo, str]:
    """A new API token acting as `username`: with that user's role at each use, or with
    `role` when given, which must not be above the user's (and which the user's own role caps
    at each use, should the user be demoted later). `expires_at` None: it does not expire.

    Returns the token's record and its plaintext, which is not stored and cannot be shown
    again.
    """
    name = name.strip()
    if not name or len(name) > MAX_TOKEN_NAME or not name.isprintable():
        raise UserError(f"a token name needs 1 to {MAX_TOKEN_NAME} printable characters")
    now = utc_now()
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise UserError("the expiry time needs a time zone")
        if expires_at <= now:
            raise UserError("the expiry time is in the past")
    token_role = None if role is None else _role(role)
    plaintext, token_hash = new_api_token()
    with _transaction(engine, connection) as writing:
        user = _user_row(writing, username)
        if token_role is not None and token_role > Role(user.role):
            raise UserError(
                f"a token of {user.name!r} cannot have the role {token_role.label}: "
                f"{user.name!r} is {Role(user.role).label}"
            )
        token_id = writing.execute(
            api_tokens.insert()
            .values(
                user_id=user.id,
                name=name,
                role=None if token_role is None else int(token_role),
                token_hash=token_hash,
                created_at=to_micros(now),
                expires_at=None if expires_at is None else to_micros(expires_at),
            )
            .returning(api_tokens.c.id)
        ).scalar_one()
        row = writing.execute(_token_query().where(api_tokens.c.id == token_id)).one()
    return _token_info(row), plaintext


def list_api_tokens(engine: Engine, username: str | None = None) -> list[ApiTokenInfo]:
    """Every API token (revoked and expired ones too), or those of one user; oldest first."""
    query = _token_query().order_by(api_tokens.c.id)
    with engine.connect() as connection:
        if username is not None:
            query = query.where(api_tokens.c.user_id == _user_row(connection, username).id)
        rows = connection.execute(query).all()
    return [_token_info(row) for row in rows]


def get_api_token(
    engine: Engine, token_id: int, *, connection: Connection | None = None
) -> ApiTokenInfo:
    """One API token by id; UnknownToken when there is none."""
    if not 1 <= token_id <= MAX_ID:
        raise UnknownToken(f"no API token with id {token_id}")
    query = _token_query().where(api_tokens.c.id == token_id)
    if connection is not None:
        row = connection.execute(query).one_or_none()
    else:
        with engine.connect() as reading:
            row = reading.execute(query).one_or_none()
    if row is None:
        raise UnknownToken(f"no API token with id {token_id}")
    return _token_info(row)


def revoke_api_token(
    engine: Engine, token_id: int, *, connection: Connection | None = None
) -> ApiTokenInfo:
    """Revoke a token from now on; revoking it again keeps the first revocation time."""
    if not 1 <= token_id <= MAX_ID:
        raise UnknownToken(f"no API token with id {token_id}")
    with _transaction(engine, connection) as writing:
        writing.execute(
            api_tokens.update()
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=to_micros(utc_now()))
        )
        return get_api_token(engine, token_id, connection=writing)
