"""Failed logins: throttled per (user name, client address) in the process, the check and the
count one atomic step, and every refusal alike whether the name exists or not (issue 10,
item 2)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Literal

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from pstg.audit import list_entries
from pstg.auth import passwords
from pstg.auth.roles import Role
from pstg.auth.service import AuthError, AuthService
from pstg.auth.throttle import LoginThrottle, lockout_window, throttle_key
from pstg.auth.users import add_user, get_user
from tests.auth.conftest import PASSWORD, SECRET, Clock

pytestmark = pytest.mark.usefixtures("fast_hashing")
WRONG = "not the password"
HERE = "127.0.2.10"
THERE = "127.0.2.20"


@pytest.fixture
def auth(engine: Engine, clock: Clock) -> AuthService:
    add_user(engine, "ann", PASSWORD, Role.ADMIN)
    add_user(engine, "bob", PASSWORD, Role.VIEWER)
    return AuthService(engine, secret=SECRET, clock=clock)


def attempt(auth: AuthService, password: str, name: str = "ann", source: str = HERE) -> int:
    """The status of a login attempt: 200, 401 or 429."""
    try:
        auth.login(name, password, source=source)
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


def test_a_guesser_elsewhere_does_not_lock_the_admin_out(auth: AuthService) -> None:
    assert [attempt(auth, WRONG, source=THERE) for _ in range(5)] == [401] * 5
    assert attempt(auth, PASSWORD, source=THERE) == 429  # the guesser, right password or not
    assert attempt(auth, PASSWORD, source=HERE) == 200  # the admin at their own desk
    assert attempt(auth, WRONG, source=THERE) == 429


def test_five_failures_throttle_the_pair_even_with_the_right_password(
    auth: AuthService, clock: Clock
) -> None:
    assert [attempt(auth, WRONG) for _ in range(5)] == [401] * 5
    with pytest.raises(AuthError) as caught:
        auth.login("ANN", PASSWORD, source=HERE)  # names are one regardless of case
    assert (caught.value.status, caught.value.retry_after) == (429, 30)
    assert caught.value.message == (
        "too many failed logins for this user name from this address: try again in 30 s"
    )
    clock.advance(29.5)
    with pytest.raises(AuthError, match="try again in 1 s"):
        auth.login("ann", PASSWORD, source=HERE)
    # Attempts while throttled are not counted: they would only lengthen the wait.
    assert auth.throttle.failures(throttle_key("ann", HERE)) == 5
    assert attempt(auth, PASSWORD, name="bob") == 200  # other names are not affected
    clock.advance(0.5)
    assert attempt(auth, PASSWORD) == 200
    assert auth.throttle.failures(throttle_key("ann", HERE)) == 0
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
    assert get_user(auth.engine, "ann").failed_logins == 12  # shown by `pstg users list`


def test_unknown_and_known_names_are_refused_alike(auth: AuthService) -> None:
    """Today's defect: a known name got 429 after five tries, an unknown one 401 forever."""
    outcomes = {}
    for name in ("ann", "nobody"):
        seen = []
        for _ in range(7):
            try:
                auth.login(name, WRONG, source=THERE)
            except AuthError as exc:
                seen.append((exc.status, exc.message, exc.retry_after))
        outcomes[name] = seen
    assert outcomes["ann"] == outcomes["nobody"]
    assert [status for status, _, _ in outcomes["ann"]] == [401] * 5 + [429] * 2


def test_a_disabled_user_with_the_right_password_is_refused_like_a_wrong_one(
    auth: AuthService,
) -> None:
    from pstg.auth.users import set_enabled

    set_enabled(auth.engine, "bob", False)
    refusals = []
    for password in (PASSWORD, WRONG):
        with pytest.raises(AuthError) as caught:
            auth.login("bob", password, source=HERE)
        refusals.append((caught.value.status, caught.value.message))
    assert refusals == [(401, "invalid user name or password")] * 2
    details = [e.detail for e in list_entries(auth.engine, action="login")]
    assert details == ["the user is disabled", "wrong password"]  # the audit knows


def test_throttled_attempts_are_audited(auth: AuthService) -> None:
    for _ in range(6):
        attempt(auth, WRONG, name="nobody", source=THERE)
    entries = list_entries(auth.engine, action="login")
    assert [(e.actor, e.source, e.result) for e in entries] == [("nobody", THERE, "denied")] * 6
    assert entries[-1].detail == "throttled after 5 failed logins from this address"


class GatedHasher(PasswordHasher):
    """A cheap argon2 whose checks wait at a gate, counting how many got that far."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=64, parallelism=1)
        self.gate = threading.Event()
        self.checks = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        with self._lock:
            self.checks += 1
        self.gate.wait(timeout=30)
        return super().verify(hash, password)


def test_a_parallel_burst_gets_no_more_checks_than_the_limit(
    auth: AuthService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Today the lock check and the count are two steps: 15 parallel wrong logins are all
    checked, and a right password arriving while they run still gets in."""
    hasher = GatedHasher()
    monkeypatch.setattr(passwords, "_hasher", hasher)
    monkeypatch.setattr(passwords, "_hashing", threading.BoundedSemaphore(100))
    with ThreadPoolExecutor(max_workers=20) as pool:
        burst = [pool.submit(attempt, auth, WRONG) for _ in range(15)]
        # Those refused at once finish; the ones let through wait at the gate.
        while sum(future.done() for future in burst) < 10 and hasher.checks < 15:
            threading.Event().wait(0.01)
        right = pool.submit(attempt, auth, PASSWORD)  # while the checks are still running
        threading.Event().wait(0.2)
        hasher.gate.set()
        done = [future.result(timeout=30) for future in burst]
        assert right.result(timeout=30) == 429
    assert sorted(done) == [401] * 5 + [429] * 10
    assert hasher.checks == 5
    assert get_user(auth.engine, "ann").last_login_at is None


def test_the_throttle_keeps_a_bounded_number_of_pairs(clock: Clock) -> None:
    throttle = LoginThrottle(max_keys=100)
    for number in range(1000):
        key = throttle_key(f"guess{number}", HERE)
        assert throttle.begin(key, clock()) is None
        throttle.failed(key, clock())
    assert len(throttle) == 100
    long_name = throttle_key("x" * 100_000, HERE)
    assert len(long_name[0]) == 128
