"""User and token changes as people make them (the admin API, `pstg users`, `pstg token`):
each change commits in one transaction with its audit row, so a change that cannot be
audited does not happen. A refused change (an unknown user, the last admin, a bad password)
is recorded as `failed` with the reason, then raised as before.

The audit never holds a password or a token: a new password shows as "(changed)".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine

from pstg.audit import PASSWORD_CHANGED, Actor, AuditEntry, record
from pstg.auth import users
from pstg.auth.roles import Role

T = TypeVar("T")


def add_user(
    engine: Engine, actor: Actor, name: str, password: str, role: Role | str
) -> users.UserInfo:
    """users.add_user, audited as user.add."""

    def change(connection: Connection) -> tuple[users.UserInfo, AuditEntry]:
        user = users.add_user(engine, name, password, role, connection=connection)
        new = {"role": user.role.label, "enabled": user.enabled}
        return user, AuditEntry(actor, "user.add", _user(user.name), new=new)

    return _audited(engine, AuditEntry(actor, "user.add", _user(name)), change)


def update_user(
    engine: Engine,
    actor: Actor,
    name: str,
    *,
    role: Role | str | None = None,
    enabled: bool | None = None,
    password: str | None = None,
) -> users.UserInfo:
    """users.update_user, audited as user.update with the fields asked for, before and after."""

    def change(connection: Connection) -> tuple[users.UserInfo, AuditEntry]:
        before = users.get_user(engine, name, connection=connection)
        after = users.update_user(
            engine, name, role=role, enabled=enabled, password=password, connection=connection
        )
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        if role is not None:
            old["role"], new["role"] = before.role.label, after.role.label
        if enabled is not None:
            old["enabled"], new["enabled"] = before.enabled, after.enabled
        if password is not None:
            new["password"] = PASSWORD_CHANGED
        return after, AuditEntry(actor, "user.update", _user(after.name), old=old, new=new)

    return _audited(engine, AuditEntry(actor, "user.update", _user(name)), change)


def create_api_token(
    engine: Engine,
    actor: Actor,
    username: str,
    name: str,
    expires_at: datetime | None = None,
    *,
    role: Role | str | None = None,
) -> tuple[users.ApiTokenInfo, str]:
    """users.create_api_token, audited as token.create (without the token, of course)."""

    def change(connection: Connection) -> tuple[tuple[users.ApiTokenInfo, str], AuditEntry]:
        info, plaintext = users.create_api_token(
            engine, username, name, expires_at, role=role, connection=connection
        )
        new = {
            "user": info.username,
            "name": info.name,
            "role": None if info.role is None else info.role.label,
            "expires_at": None if info.expires_at is None else info.expires_at.isoformat(),
        }
        return (info, plaintext), AuditEntry(actor, "token.create", _token(info.id), new=new)

    return _audited(engine, AuditEntry(actor, "token.create", _user(username)), change)


def revoke_api_token(engine: Engine, actor: Actor, token_id: int) -> users.ApiTokenInfo:
    """users.revoke_api_token, audited as token.revoke."""

    def change(connection: Connection) -> tuple[users.ApiTokenInfo, AuditEntry]:
        before = users.get_api_token(engine, token_id, connection=connection)
        after = users.revoke_api_token(engine, token_id, connection=connection)
        entry = AuditEntry(
            actor,
            "token.revoke",
            _token(token_id),
            old={"user": before.username, "name": before.name, "revoked_at": _when(before)},
            new={"revoked_at": _when(after)},
        )
        return after, entry

    return _audited(engine, AuditEntry(actor, "token.revoke", _token(token_id)), change)


def _audited(
    engine: Engine,
    attempt: AuditEntry,
    change: Callable[[Connection], tuple[T, AuditEntry]],
) -> T:
    """Run `change` and record its entry in one transaction; on a UserError record `attempt`
    as failed (in a transaction of its own: the change rolled back) and raise it."""
    try:
        with engine.begin() as connection:
            done, entry = change(connection)
            record(connection, entry)
    except users.UserError as exc:
        with engine.begin() as connection:
            record(
                connection,
                AuditEntry(
                    attempt.actor, attempt.action, attempt.target, result="failed", detail=str(exc)
                ),
            )
        raise
    return done


def _user(name: str) -> str:
    return f"user:{name}"


def _token(token_id: int) -> str:
    return f"token:{token_id}"


def _when(info: users.ApiTokenInfo) -> str | None:
    return None if info.revoked_at is None else info.revoked_at.isoformat()
