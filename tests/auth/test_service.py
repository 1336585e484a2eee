"""AuthService on both backends: logins, access tokens and API tokens, checked against the
database at every use."""

from datetime import timedelta
from unittest.mock import ANY

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from pstg.auth import passwords
from pstg.auth.roles import Role
from pstg.auth.service import AuthError, AuthService, Principal
from pstg.auth.tables import users
from pstg.auth.tokens import new_api_token
from pstg.auth.users import (
    add_user,
    create_api_token,
    get_user,
    list_api_tokens,
    revoke_api_token,
    set_enabled,
    set_role,
)
from tests.auth.conftest import PASSWORD, SECRET, Clock

pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def auth(engine: Engine, clock: Clock) -> AuthService:
    add_user(engine, "admin", PASSWORD, Role.ADMIN)
    add_user(engine, "ann", PASSWORD, Role.OPERATOR)
    return AuthService(engine, secret=SECRET, clock=clock)


def expect_refusal(call: object, status: int, match: str) -> AuthError:
    assert callable(call)
    with pytest.raises(AuthError, match=match) as caught:
        call()
    assert caught.value.status == status
    return caught.value


def test_login_gives_the_principal_and_records_it(auth: AuthService, clock: Clock) -> None:
    principal = auth.login("ann", PASSWORD)
    ann = get_user(auth.engine, "ann")
    assert principal == Principal("ann", Role.OPERATOR, ann.id, "password", token_key=ANY)
    assert principal.token_key
    assert ann.last_login_at == clock.now


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("ann", "wrong password"),
        ("ann", ""),
        ("Ann", PASSWORD),
        ("nobody", PASSWORD),
        ("ann\x00", PASSWORD),  # PostgreSQL refuses NUL in text: never sent there
        ("x" * 10_000, PASSWORD),
        ("ann", "x" * 100_000),
    ],
)
def test_bad_logins_say_nothing_about_which_part_was_wrong(
    auth: AuthService, username: str, password: str
) -> None:
    error = expect_refusal(
        lambda: auth.login(username, password), 401, "^invalid user name or password$"
    )
    assert error.message == str(error)


def test_a_disabled_user_cannot_log_in(auth: AuthService) -> None:
    # Refused like a wrong password: the answer does not tell that the password was right.
    set_enabled(auth.engine, "ann", False)
    expect_refusal(lambda: auth.login("ann", PASSWORD), 401, "^invalid user name or password$")
    expect_refusal(lambda: auth.login("ann", "wrong password"), 401, "invalid user name")


def test_access_token_round_trip(auth: AuthService, clock: Clock) -> None:
    token, seconds = auth.issue_access_token(auth.login("ann", PASSWORD))
    assert seconds == 15 * 60
    principal = auth.authenticate(token)
    assert (principal.username, principal.role, principal.via) == (
        "ann",
        Role.OPERATOR,
        "access_token",
    )
    assert principal.token_id is None
    clock.advance(seconds - 1)
    assert auth.authenticate(token).username == "ann"
    clock.advance(1)
    expect_refusal(lambda: auth.authenticate(token), 401, "access token expired")


def test_access_token_lifetime_is_configurable(engine: Engine, auth: AuthService) -> None:
    short = AuthService(engine, secret=SECRET, access_minutes=0.5)
    assert short.issue_access_token(short.login("ann", PASSWORD))[1] == 30
    with pytest.raises(ValueError, match="positive"):
        AuthService(engine, secret=SECRET, access_minutes=0)


def test_a_token_from_a_clock_in_the_past_is_expired_now(engine: Engine, auth: AuthService) -> None:
    past = AuthService(engine, secret=SECRET, clock=Clock(auth.clock() - timedelta(hours=1)))
    token, _ = past.issue_access_token(past.login("ann", PASSWORD))
    expect_refusal(lambda: auth.authenticate(token), 401, "expired")


def test_a_short_secret_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        AuthService(engine, secret="too short")


def test_tokens_signed_with_another_secret_are_refused(engine: Engine, auth: AuthService) -> None:
    other = AuthService(engine, secret=SECRET[::-1] + "!")
    token, _ = other.issue_access_token(other.login("ann", PASSWORD))
    expect_refusal(lambda: auth.authenticate(token), 401, "^invalid access token$")


@pytest.mark.parametrize("bearer", ["", "x", "a.b.c", "pstg_", "pstg_unknown", "Bearer x"])
def test_garbage_bearers(auth: AuthService, bearer: str) -> None:
    expect_refusal(lambda: auth.authenticate(bearer), 401, "missing|invalid|unknown")


def test_role_changes_and_disabling_apply_to_live_tokens_at_once(auth: AuthService) -> None:
    access, _ = auth.issue_access_token(auth.login("ann", PASSWORD))
    _, api = create_api_token(auth.engine, "ann", "script")
    set_role(auth.engine, "ann", Role.VIEWER)
    assert auth.authenticate(access).role is Role.VIEWER
    assert auth.authenticate(api).role is Role.VIEWER
    set_enabled(auth.engine, "ann", False)
    expect_refusal(lambda: auth.authenticate(access), 401, "user 'ann' is disabled")
    expect_refusal(lambda: auth.authenticate(api), 401, "user 'ann' is disabled")
    set_enabled(auth.engine, "ann", True)
    assert auth.authenticate(api).username == "ann"


def test_a_token_of_a_user_who_is_gone_is_refused(auth: AuthService) -> None:
    token, _ = auth.issue_access_token(auth.login("ann", PASSWORD))
    # Another name on the same id (a restored or rebuilt database) must not inherit it.
    with auth.engine.begin() as connection:
        connection.execute(users.update().where(users.c.name == "ann").values(name="eve"))
    expect_refusal(lambda: auth.authenticate(token), 401, "user 'ann' no longer exists")


def test_api_tokens(auth: AuthService, clock: Clock) -> None:
    info, token = create_api_token(auth.engine, "ann", "grafana")
    principal = auth.authenticate(token)
    assert principal == Principal(
        "ann", Role.OPERATOR, get_user(auth.engine, "ann").id, "api_token", info.id
    )
    revoke_api_token(auth.engine, info.id)
    expect_refusal(lambda: auth.authenticate(token), 401, f"API token {info.id} has been revoked")
    expect_refusal(lambda: auth.authenticate(new_api_token()[0]), 401, "unknown API token")


def test_api_tokens_expire_on_the_service_clock(auth: AuthService, clock: Clock) -> None:
    info, token = create_api_token(
        auth.engine, "ann", "cron", expires_at=clock.now + timedelta(days=1)
    )
    clock.advance(86_399)
    assert auth.authenticate(token).token_id == info.id
    clock.advance(1)
    expect_refusal(lambda: auth.authenticate(token), 401, f"API token {info.id} has expired")


def test_api_token_last_use_is_recorded_once_a_minute(auth: AuthService, clock: Clock) -> None:
    _, token = create_api_token(auth.engine, "ann", "grafana")

    def last_used() -> object:
        return list_api_tokens(auth.engine, "ann")[0].last_used_at

    assert last_used() is None
    first = clock.now
    auth.authenticate(token)
    assert last_used() == first
    clock.advance(59)
    auth.authenticate(token)
    assert last_used() == first
    clock.advance(1)
    auth.authenticate(token)
    assert last_used() == clock.now


def test_login_rehashes_a_password_hashed_with_older_parameters(
    auth: AuthService, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stored() -> str:
        with auth.engine.connect() as connection:
            return str(
                connection.execute(
                    sa.select(users.c.password_hash).where(users.c.name == "ann")
                ).scalar_one()
            )

    old = stored()
    stronger = PasswordHasher(time_cost=2, memory_cost=128, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", stronger)
    auth.login("ann", PASSWORD)
    new = stored()
    assert new != old
    assert not stronger.check_needs_rehash(new)
    auth.login("ann", PASSWORD)
    assert stored() == new
