"""Users and API tokens in the database (both backends)."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.auth.passwords import verify_password
from pstg.auth.roles import Role
from pstg.auth.tables import api_tokens, users
from pstg.auth.tokens import hash_api_token
from pstg.auth.users import (
    DuplicateUser,
    UnknownToken,
    UnknownUser,
    UserError,
    add_user,
    create_api_token,
    get_user,
    list_api_tokens,
    list_users,
    revoke_api_token,
    set_enabled,
    set_password,
    set_role,
    update_user,
)
from pstg.model import utc_now
from tests.auth.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("fast_hashing")


def stored_hash(engine: Engine, name: str) -> str:
    with engine.connect() as connection:
        return str(
            connection.execute(
                sa.select(users.c.password_hash).where(users.c.name == name)
            ).scalar_one()
        )


def test_add_and_list_users(engine: Engine) -> None:
    before = utc_now()
    ann = add_user(engine, "ann", PASSWORD, Role.ADMIN)
    add_user(engine, "Bob.Smith-2_x", PASSWORD, "viewer")
    assert ann.name == "ann"
    assert ann.role is Role.ADMIN
    assert ann.enabled
    assert ann.last_login_at is None
    assert ann.failed_logins == 0
    assert before - timedelta(seconds=1) <= ann.created_at <= utc_now()
    assert [(u.name, u.role) for u in list_users(engine)] == [
        ("Bob.Smith-2_x", Role.VIEWER),
        ("ann", Role.ADMIN),
    ]
    assert get_user(engine, "ann") == ann
    assert verify_password(stored_hash(engine, "ann"), PASSWORD)
    assert PASSWORD not in stored_hash(engine, "ann")


@pytest.mark.parametrize(
    ("name", "password", "role", "message"),
    [
        ("", PASSWORD, Role.VIEWER, "invalid user name ''"),
        ("a b", PASSWORD, Role.VIEWER, "invalid user name 'a b'"),
        ("x" * 65, PASSWORD, Role.VIEWER, "1 to 64 letters"),
        ("anné", PASSWORD, Role.VIEWER, "invalid user name"),
        ("ann;drop", PASSWORD, Role.VIEWER, "invalid user name"),
        ("ann", "short", Role.VIEWER, "at least 8 characters"),
        ("ann", PASSWORD, "root", "unknown role 'root'"),
    ],
)
def test_add_user_refuses_bad_input(
    engine: Engine, name: str, password: str, role: Role | str, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        add_user(engine, name, password, role)
    assert list_users(engine) == []


def test_names_are_unique_regardless_of_case(engine: Engine) -> None:
    add_user(engine, "ann", PASSWORD, Role.VIEWER)
    for name in ("ann", "ANN", "Ann"):
        with pytest.raises(DuplicateUser, match="user 'ann' already exists"):
            add_user(engine, name, PASSWORD, Role.VIEWER)
    assert isinstance(DuplicateUser("x"), ValueError)


def test_unknown_users(engine: Engine) -> None:
    for change in (
        lambda: get_user(engine, "nobody"),
        lambda: set_role(engine, "nobody", Role.ADMIN),
        lambda: set_enabled(engine, "nobody", False),
        lambda: set_password(engine, "nobody", PASSWORD),
        lambda: create_api_token(engine, "nobody", "grafana"),
        lambda: list_api_tokens(engine, "nobody"),
    ):
        with pytest.raises(UnknownUser, match="no user 'nobody'"):
            change()


def test_change_role_enabled_and_password(engine: Engine) -> None:
    add_user(engine, "admin", PASSWORD, Role.ADMIN)
    add_user(engine, "ann", PASSWORD, Role.VIEWER)
    assert set_role(engine, "ann", "engineer").role is Role.ENGINEER
    assert not set_enabled(engine, "ann", False).enabled
    set_password(engine, "ann", "a new password")
    assert verify_password(stored_hash(engine, "ann"), "a new password")
    with pytest.raises(UserError, match="at least 8"):
        set_password(engine, "ann", "short")
    assert verify_password(stored_hash(engine, "ann"), "a new password")


def test_update_user_is_all_or_nothing(engine: Engine) -> None:
    add_user(engine, "ann", PASSWORD, Role.VIEWER)
    with pytest.raises(UserError, match="at least 8"):
        update_user(engine, "ann", role=Role.ADMIN, password="short")
    assert get_user(engine, "ann").role is Role.VIEWER
    same = update_user(engine, "ann")
    assert same == get_user(engine, "ann")


def test_a_new_password_or_enabling_clears_failed_logins(engine: Engine) -> None:
    add_user(engine, "ann", PASSWORD, Role.VIEWER)

    def fail_logins(count: int) -> None:
        with engine.begin() as connection:
            connection.execute(users.update().values(failed_logins=count, last_failed_at=1))

    fail_logins(9)
    assert get_user(engine, "ann").failed_logins == 9
    assert set_password(engine, "ann", "another password").failed_logins == 0
    fail_logins(9)
    assert set_role(engine, "ann", Role.OPERATOR).failed_logins == 9  # a role is no unlock
    assert set_enabled(engine, "ann", True).failed_logins == 0


def test_the_last_enabled_admin_cannot_be_disabled_or_demoted(engine: Engine) -> None:
    add_user(engine, "root", PASSWORD, Role.ADMIN)
    for change in (
        lambda: set_enabled(engine, "root", False),
        lambda: set_role(engine, "root", Role.ENGINEER),
        lambda: update_user(engine, "root", role=Role.ADMIN, enabled=False),
    ):
        with pytest.raises(UserError, match="'root' is the last enabled admin"):
            change()
    add_user(engine, "second", PASSWORD, Role.ADMIN)
    set_enabled(engine, "second", False)
    with pytest.raises(UserError, match="last enabled admin"):
        set_role(engine, "root", Role.VIEWER)  # a disabled admin does not count
    set_enabled(engine, "second", True)
    assert set_role(engine, "root", Role.VIEWER).role is Role.VIEWER
    with pytest.raises(UserError, match="'second' is the last enabled admin"):
        set_enabled(engine, "second", False)
    # Changes that keep an admin enabled are fine; so is anything on other users.
    assert set_role(engine, "second", Role.ADMIN).enabled


def test_api_tokens_create_list_revoke(engine: Engine) -> None:
    add_user(engine, "grafana", PASSWORD, Role.VIEWER)
    add_user(engine, "script", PASSWORD, Role.OPERATOR)
    expires = utc_now() + timedelta(days=30)
    info, token = create_api_token(engine, "grafana", " dashboards ", expires)
    assert token.startswith("pstg_")
    assert (info.username, info.name, info.revoked_at, info.last_used_at) == (
        "grafana",
        "dashboards",
        None,
        None,
    )
    assert abs(info.expires_at - expires) < timedelta(microseconds=1)  # type: ignore[operator]
    assert info.status(utc_now()) == "active"
    assert info.status(expires) == "expired"
    other, _ = create_api_token(engine, "script", "cron")
    assert other.expires_at is None
    assert [t.id for t in list_api_tokens(engine)] == [info.id, other.id]
    assert list_api_tokens(engine, "script") == [other]
    with engine.connect() as connection:
        hashes = connection.execute(sa.select(api_tokens.c.token_hash)).scalars().all()
    assert hash_api_token(token) in hashes
    assert not any(token in h for h in hashes)

    revoked = revoke_api_token(engine, info.id)
    assert revoked.revoked_at is not None
    assert revoked.status(utc_now()) == "revoked"
    assert revoke_api_token(engine, info.id).revoked_at == revoked.revoked_at
    assert list_api_tokens(engine, "grafana") == [revoked]


@pytest.mark.parametrize("token_id", [0, -1, 999, 2**63, 10**30])
def test_revoking_an_unknown_token(engine: Engine, token_id: int) -> None:
    with pytest.raises(UnknownToken, match=f"no API token with id {token_id}"):
        revoke_api_token(engine, token_id)


@pytest.mark.parametrize(
    ("name", "expires_in", "message"),
    [
        ("", None, "1 to 64 printable"),
        ("   ", None, "1 to 64 printable"),
        ("x" * 65, None, "1 to 64 printable"),
        ("tab\there", None, "1 to 64 printable"),
        ("grafana", timedelta(seconds=-1), "in the past"),
    ],
)
def test_api_token_input_is_checked(
    engine: Engine, name: str, expires_in: timedelta | None, message: str
) -> None:
    add_user(engine, "grafana", PASSWORD, Role.VIEWER)
    expires = None if expires_in is None else utc_now() + expires_in
    with pytest.raises(UserError, match=message):
        create_api_token(engine, "grafana", name, expires)
    with pytest.raises(UserError, match="needs a time zone"):
        create_api_token(engine, "grafana", "x", utc_now().replace(tzinfo=None))
