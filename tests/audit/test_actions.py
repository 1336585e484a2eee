"""Actions that are audited (user and token changes, logins) commit with their audit row, or
not at all; refused ones are recorded as such; no password or token reaches the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.audit import list_entries, verify
from pstg.audit.tables import audit_log
from pstg.auth import admin, users
from pstg.auth.roles import Role
from pstg.auth.service import AuthError, AuthService
from tests.audit.conftest import ALICE

PASSWORD = "correct horse battery"
SECRET = "a-test-secret-that-is-long-enough-for-hs256"


def whole_log(engine: Engine) -> str:
    with engine.connect() as connection:
        return repr(connection.execute(sa.select(audit_log)).all())


def test_user_and_token_changes_are_recorded(engine: Engine) -> None:
    admin.add_user(engine, ALICE, "ann", PASSWORD, Role.VIEWER)
    admin.update_user(engine, ALICE, "ann", role=Role.OPERATOR)
    admin.update_user(engine, ALICE, "ann", enabled=False, password="a new password")
    expires = datetime(2100, 1, 1, tzinfo=UTC)
    info, token = admin.create_api_token(engine, ALICE, "ann", "grafana", expires)
    admin.revoke_api_token(engine, ALICE, info.id)

    found = [(e.action, e.target, e.old_value, e.new_value, e.result) for e in list_entries(engine)]
    assert found == [
        ("user.add", "user:ann", None, {"role": "viewer", "enabled": True}, "ok"),
        ("user.update", "user:ann", {"role": "viewer"}, {"role": "operator"}, "ok"),
        (
            "user.update",
            "user:ann",
            {"enabled": True},
            {"enabled": False, "password": "(changed)"},
            "ok",
        ),
        (
            "token.create",
            f"token:{info.id}",
            None,
            {
                "user": "ann",
                "name": "grafana",
                "role": None,
                "expires_at": "2100-01-01T00:00:00+00:00",
            },
            "ok",
        ),
        (
            "token.revoke",
            f"token:{info.id}",
            {"user": "ann", "name": "grafana", "revoked_at": None},
            {"revoked_at": users.get_api_token(engine, info.id).revoked_at.isoformat()},  # type: ignore[union-attr]
            "ok",
        ),
    ]
    for entry in list_entries(engine):
        assert (entry.actor, entry.role, entry.via, entry.source) == (
            "alice",
            "admin",
            "access_token",
            "127.0.2.7",
        )
    log = whole_log(engine)
    for secret in (PASSWORD, "a new password", token, token.removeprefix("pstg_")):
        assert secret not in log
    assert verify(engine).ok


@pytest.mark.parametrize(
    ("change", "action", "target", "detail"),
    [
        (lambda e: admin.add_user(e, ALICE, "ann", "short", "viewer"), "user.add", "user:ann",
         "the password must have at least 8 characters"),
        (lambda e: admin.add_user(e, ALICE, "ROOT", PASSWORD, "viewer"), "user.add", "user:ROOT",
         "user 'root' already exists"),
        (lambda e: admin.update_user(e, ALICE, "root", role="viewer"), "user.update",
         "user:root", "'root' is the last enabled admin"),
        (lambda e: admin.update_user(e, ALICE, "nobody", enabled=False), "user.update",
         "user:nobody", "no user 'nobody'"),
        (lambda e: admin.create_api_token(e, ALICE, "nobody", "x"), "token.create",
         "user:nobody", "no user 'nobody'"),
        (lambda e: admin.revoke_api_token(e, ALICE, 42), "token.revoke", "token:42",
         "no API token with id 42"),
    ],
)  # fmt: skip
def test_refused_changes_are_recorded_as_failed(
    engine: Engine, change, action: str, target: str, detail: str
) -> None:
    users.add_user(engine, "root", PASSWORD, Role.ADMIN)
    with pytest.raises(users.UserError, match=detail):
        change(engine)
    [entry] = list_entries(engine)
    assert (entry.action, entry.target, entry.result) == (action, target, "failed")
    assert detail in entry.detail
    assert (entry.old_value, entry.new_value) == (None, None)
    assert users.get_user(engine, "root").role is Role.ADMIN


def break_the_audit(engine: Engine) -> None:
    """Make every audit write fail, as a full disk or a broken table would."""
    with engine.begin() as connection:
        audit_log.drop(connection)


def test_a_change_that_cannot_be_audited_does_not_happen(engine: Engine) -> None:
    users.add_user(engine, "root", PASSWORD, Role.ADMIN)
    info, _ = users.create_api_token(engine, "root", "script")
    break_the_audit(engine)
    with pytest.raises(sa.exc.DBAPIError):
        admin.add_user(engine, ALICE, "ann", PASSWORD, Role.VIEWER)
    assert [user.name for user in users.list_users(engine)] == ["root"]
    with pytest.raises(sa.exc.DBAPIError):
        admin.update_user(engine, ALICE, "root", password="a new password")
    with pytest.raises(sa.exc.DBAPIError):
        admin.revoke_api_token(engine, ALICE, info.id)
    assert users.get_api_token(engine, info.id).revoked_at is None
    with pytest.raises(sa.exc.DBAPIError):
        admin.create_api_token(engine, ALICE, "root", "another")
    assert len(users.list_api_tokens(engine)) == 1


def test_a_login_that_cannot_be_audited_does_not_happen(engine: Engine) -> None:
    users.add_user(engine, "root", PASSWORD, Role.ADMIN)
    auth = AuthService(engine, secret=SECRET)
    break_the_audit(engine)
    with pytest.raises(sa.exc.DBAPIError):
        auth.login("root", PASSWORD, source="127.0.2.1")
    assert users.get_user(engine, "root").last_login_at is None
    # A refusal stays a refusal (logged) when it cannot be audited.
    with pytest.raises(AuthError, match="invalid user name or password"):
        auth.login("root", "wrong password", source="127.0.2.1")


def test_logins_are_recorded(engine: Engine) -> None:
    users.add_user(engine, "root", PASSWORD, Role.ADMIN)
    users.add_user(engine, "gone", PASSWORD, Role.VIEWER)
    users.set_enabled(engine, "gone", False)
    now = datetime.now(UTC)
    auth = AuthService(engine, secret=SECRET, clock=lambda: now)
    auth.login("root", PASSWORD, source="127.0.2.1")
    for username, password in [
        ("root", "wrong password"),
        ("nobody", PASSWORD),
        ("gone", PASSWORD),
    ]:
        with pytest.raises(AuthError):
            auth.login(username, password, source="127.0.2.2")
    for _ in range(5):
        with pytest.raises(AuthError):
            auth.login("root", "wrong password")
    for _ in range(5):
        with pytest.raises(AuthError):
            auth.login("root", "wrong password", source="127.0.2.3")
    with pytest.raises(AuthError, match="too many failed logins"):
        auth.login("root", PASSWORD, source="127.0.2.3")
    found = [
        (e.actor, e.role, e.via, e.source, e.action, e.target, e.result, e.detail)
        for e in list_entries(engine)
    ]
    assert found[:4] == [
        ("root", "admin", "password", "127.0.2.1", "login", "user:root", "ok", ""),
        ("root", "admin", "password", "127.0.2.2", "login", "user:root", "denied",
         "wrong password"),
        ("nobody", None, "password", "127.0.2.2", "login", "user:nobody", "denied",
         "no such user"),
        ("gone", "viewer", "password", "127.0.2.2", "login", "user:gone", "denied",
         "the user is disabled"),
    ]  # fmt: skip
    assert found[4][3] == "unknown"  # no address given
    assert found[-1] == (
        "root",
        None,  # throttled before the user is looked up
        "password",
        "127.0.2.3",
        "login",
        "user:root",
        "denied",
        "throttled after 5 failed logins from this address",
    )
    first = list_entries(engine, limit=1)[0]
    assert abs(first.ts - now) < timedelta(milliseconds=1)
    assert PASSWORD not in whole_log(engine)
