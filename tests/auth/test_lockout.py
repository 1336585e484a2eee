"""Failed logins: counted per user in the database, and a growing lockout after five."""

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from pstg.auth.roles import Role
from pstg.auth.service import AuthError, AuthService, lockout_window
from pstg.auth.users import add_user, get_user, set_enabled, set_password
from tests.auth.conftest import PASSWORD, SECRET, Clock

pytestmark = pytest.mark.usefixtures("fast_hashing")
WRONG = "not the password"


@pytest.fixture
def auth(engine: Engine, clock: Clock) -> AuthService:
    add_user(engine, "ann", PASSWORD, Role.VIEWER)
    add_user(engine, "bob", PASSWORD, Role.VIEWER)
    return AuthService(engine, secret=SECRET, clock=clock)


def attempt(auth: AuthService, password: str) -> int:
    """The status of a login attempt as "ann": 200, 401 or 429."""
    try:
        auth.login("ann", password)
    except AuthError as exc:
        return exc.status
    return 200


@pytest.mark.parametrize(
    ("failures", "window_s"),
    [(0, None), (4, None), (5, 30), (6, 60), (7, 120), (9, 480), (10, 900), (10**6, 900)],
)
def test_lockout_window(failures: int, window_s: int | None) -> None:
    expected = None if window_s is None else timedelta(seconds=window_s)
    assert lockout_window(failures) == expected


def test_five_failures_lock_the_user_out_even_with_the_right_password(
    auth: AuthService, clock: Clock
) -> None:
    assert [attempt(auth, WRONG) for _ in range(5)] == [401] * 5
    assert get_user(auth.engine, "ann").failed_logins == 5
    with pytest.raises(AuthError, match="too many failed logins for 'ann': try again in 30 s") as e:
        auth.login("ann", PASSWORD)
    assert (e.value.status, e.value.retry_after) == (429, 30)
    clock.advance(29.5)
    with pytest.raises(AuthError, match="try again in 1 s"):
        auth.login("ann", PASSWORD)
    # Attempts while locked are not counted: they would only lengthen the lockout.
    assert get_user(auth.engine, "ann").failed_logins == 5
    # Other users are not affected.
    assert auth.login("bob", PASSWORD).username == "bob"
    clock.advance(0.5)
    assert attempt(auth, PASSWORD) == 200
    assert get_user(auth.engine, "ann").failed_logins == 0
    assert attempt(auth, WRONG) == 401  # the count starts again from zero
    assert attempt(auth, PASSWORD) == 200


def test_the_window_doubles_with_each_failure_after_it(auth: AuthService, clock: Clock) -> None:
    for _ in range(5):
        attempt(auth, WRONG)
    for window in (30, 60, 120, 240, 480, 900, 900):
        assert attempt(auth, WRONG) == 429
        clock.advance(window - 1)
        assert attempt(auth, PASSWORD) == 429
        clock.advance(1)
        assert attempt(auth, WRONG) == 401  # the password is checked again, and wrong
    assert get_user(auth.engine, "ann").failed_logins == 12


@pytest.mark.parametrize("unlock", ["password", "enable"])
def test_an_admin_ends_a_lockout(auth: AuthService, unlock: str) -> None:
    for _ in range(5):
        attempt(auth, WRONG)
    assert attempt(auth, PASSWORD) == 429
    if unlock == "password":
        set_password(auth.engine, "ann", "a brand new one")
        assert auth.login("ann", "a brand new one").username == "ann"
    else:
        set_enabled(auth.engine, "ann", True)
        assert attempt(auth, PASSWORD) == 200


def test_the_count_is_shared_by_every_process_on_the_database(
    engine: Engine, auth: AuthService, clock: Clock
) -> None:
    other = AuthService(engine, secret=SECRET, clock=clock)
    for service in (auth, other, auth, other, auth):
        with pytest.raises(AuthError):
            service.login("ann", WRONG)
    with pytest.raises(AuthError) as caught:
        other.login("ann", PASSWORD)
    assert caught.value.status == 429
