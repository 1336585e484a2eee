"""Credential checks read on the event loop (pstg.auth.loop_reads) answer exactly as the
worker-thread path does, on both databases, at the very next request after a change; they
give way (None) when the read cannot be made there; and the API's plain reads use them."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.api.app import create_app
from pstg.api.context import ApiContext
from pstg.audit import Actor
from pstg.auth import loop_reads
from pstg.auth.roles import Role
from pstg.auth.service import AuthError, AuthService, Principal
from pstg.auth.sessions import SEEN_EVERY
from pstg.auth.users import (
    add_user,
    create_api_token,
    revoke_api_token,
    set_enabled,
    set_password,
    set_role,
)
from pstg.config.models import StationConfig
from pstg.metrics import Metrics
from pstg.storage.database import create_engine
from tests.auth.conftest import PASSWORD, SECRET, Clock

pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def auth(engine: Engine, clock: Clock) -> AuthService:
    add_user(engine, "ann", PASSWORD, Role.OPERATOR)
    return AuthService(engine, secret=SECRET, clock=clock)


def outcome(check: Callable[[], Principal]) -> Principal | str:
    try:
        return check()
    except AuthError as exc:
        return f"{exc.status} {exc.message}"


async def outcome_on_loop(check: Callable[[], Awaitable[Principal | None]]) -> Principal | str:
    try:
        principal = await check()
    except AuthError as exc:
        return f"{exc.status} {exc.message}"
    assert principal is not None, "the read on the loop gave way where it should not"
    return principal


async def both_agree(auth: AuthService, credential: str) -> Principal | str:
    """The loop's answer, after checking it is the worker-thread path's."""
    if credential.startswith("pstgs_"):
        on_loop = await outcome_on_loop(lambda: auth.authenticate_session_on_loop(credential))
        threaded = outcome(lambda: auth.authenticate_session(credential))
    else:
        on_loop = await outcome_on_loop(lambda: auth.authenticate_on_loop(credential))
        threaded = outcome(lambda: auth.authenticate(credential))
    assert on_loop == threaded
    return on_loop


async def test_an_access_token_follows_each_change_at_the_next_check(auth: AuthService) -> None:
    token, _ = auth.issue_access_token(auth.login("ann", PASSWORD, source="127.0.0.1"))
    first = await both_agree(auth, token)
    assert isinstance(first, Principal)
    assert first.role is Role.OPERATOR
    set_role(auth.engine, "ann", Role.VIEWER)
    changed = await both_agree(auth, token)
    assert isinstance(changed, Principal)
    assert changed.role is Role.VIEWER
    set_enabled(auth.engine, "ann", False)
    assert await both_agree(auth, token) == "401 user 'ann' is disabled"
    set_enabled(auth.engine, "ann", True)
    set_password(auth.engine, "ann", "a fresh secret")
    assert "the password changed" in str(await both_agree(auth, token))
    assert await both_agree(auth, "not.a.token") == "401 invalid access token"


async def test_an_api_token_follows_its_revocation_and_writes_its_use_on_time(
    auth: AuthService, clock: Clock
) -> None:
    _, token = create_api_token(auth.engine, "ann", "grafana", role=Role.VIEWER)
    # Its first use is due to be written: the loop gives way to the path that writes it.
    assert await auth.authenticate_on_loop(token) is None
    principal = auth.authenticate(token)
    assert principal.role is Role.VIEWER
    assert principal.via == "api_token"
    assert await both_agree(auth, token) == principal  # written: now read on the loop
    clock.advance(61)
    assert await auth.authenticate_on_loop(token) is None  # due again after a minute
    auth.authenticate(token)
    assert principal.token_id is not None
    revoke_api_token(auth.engine, principal.token_id)
    assert "has been revoked" in str(await both_agree(auth, token))
    assert await both_agree(auth, "pstg_unknown") == "401 unknown API token"


async def test_a_session_follows_its_logout_and_idle_time(auth: AuthService, clock: Clock) -> None:
    principal = auth.login("ann", PASSWORD, source="127.0.0.1")
    cookie, _ = auth.start_session(principal, "127.0.0.1")
    admitted = await both_agree(auth, cookie)
    assert isinstance(admitted, Principal)
    assert admitted.via == "session"
    clock.advance(SEEN_EVERY.total_seconds())
    assert await auth.authenticate_session_on_loop(cookie) is None  # its last use is due
    auth.authenticate_session(cookie)
    clock.advance((auth.session_idle + timedelta(seconds=1)).total_seconds())
    assert "idle too long" in str(await both_agree(auth, cookie))
    second, _ = auth.start_session(auth.login("ann", PASSWORD, source="127.0.0.1"), "127.0.0.1")
    auth.end_session(second, actor=_actor())
    assert "logged out" in str(await both_agree(auth, second))
    assert await both_agree(auth, "pstgs_unknown") == "401 unknown session: log in again"


def _actor() -> Actor:
    return Actor("ann", "operator", "session", "127.0.0.1")


async def test_a_database_out_of_reach_gives_way_without_trying_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL not answering: the read gives way (the worker-thread path then
    answers as it always did), and the next attempt to connect waits RETRY_AFTER_S."""
    attempts = 0
    original = psycopg.AsyncConnection.connect

    async def counted(*args: object, **kwargs: object) -> object:
        nonlocal attempts
        attempts += 1
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(psycopg.AsyncConnection, "connect", counted)
    with socket_nobody_listens_on() as port:
        engine = create_engine(f"postgresql://postgres@127.0.0.1:{port}/postgres")
        reads = loop_reads.LoopReads(engine)
        for _ in range(3):
            with pytest.raises(loop_reads.ReadUnavailable):
                await reads.fetch(sa.select(sa.literal(1).label("one")))
        assert attempts == 1
        engine.dispose()


@contextmanager
def socket_nobody_listens_on() -> Iterator[int]:
    """A loopback port that refuses connections while the block runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        yield sock.getsockname()[1]


async def test_a_sqlite_database_that_is_not_there_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    engine = create_engine(f"sqlite:///{path}")
    engine.dispose()
    path.unlink()
    reads = loop_reads.LoopReads(engine)
    with pytest.raises(loop_reads.ReadUnavailable):
        await reads.fetch(sa.select(sa.literal(1).label("one")))
    assert not path.exists()


async def test_disposing_the_engine_closes_the_loop_connection(
    engine: Engine, auth: AuthService
) -> None:
    token, _ = auth.issue_access_token(auth.login("ann", PASSWORD, source="127.0.0.1"))
    assert await auth.authenticate_on_loop(token) is not None
    if engine.dialect.name == "postgresql":
        assert _loop_connections(engine) == 1
    engine.dispose()
    if engine.dialect.name == "postgresql":
        assert _loop_connections(engine) == 0
    # Usable again afterwards: a new connection is opened when needed.
    assert await auth.authenticate_on_loop(token) is not None
    auth.loop_reads.close()


def _loop_connections(engine: Engine) -> int:
    probe = create_engine(engine.url)
    try:
        with probe.connect() as connection:
            for _ in range(50):  # the server notices a closed connection a moment later
                count = connection.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE application_name = 'pstg credential reads' "
                        "AND datname = current_database()"
                    )
                ).scalar_one()
                if count <= 1:
                    return int(count)
                time.sleep(0.05)
            return int(count)
    finally:
        probe.dispose()


async def test_the_api_checks_plain_reads_without_a_worker_thread(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GET with a valid token is checked on the loop; a refused one still goes the way
    that audits it."""
    auth = AuthService(engine, secret=SECRET)
    add_user(engine, "viewer", PASSWORD, Role.VIEWER)
    threaded: list[str] = []
    original = auth.authenticate

    def spied(bearer: str) -> Principal:
        threaded.append(bearer)
        return original(bearer)

    monkeypatch.setattr(auth, "authenticate", spied)
    station = StationConfig.model_validate({"station": {"id": "ps-loop"}})
    context = ApiContext(
        engine=engine, config=station, station_id=1, tag_ids={}, auth=auth,
        metrics=Metrics(dict, lambda: None),
    )  # fmt: skip
    app = create_app(context)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        login = await client.post(
            "/api/v1/auth/token", data={"username": "viewer", "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for _ in range(5):
            assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
        assert threaded == []
        forged = {"Authorization": "Bearer pstg_forged"}
        assert (await client.get("/api/v1/auth/me", headers=forged)).status_code == 401
        assert threaded == ["pstg_forged"]
    auth.loop_reads.close()
    await asyncio.sleep(0)


async def test_checks_of_one_credential_share_a_read_only_if_they_came_before_it(
    engine: Engine, auth: AuthService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: sixteen checks of one token at once cost far fewer than sixteen reads;
    a check that comes after a change never joins a read sent before it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite reads are made on the spot, one per check")
    token, _ = auth.issue_access_token(auth.login("ann", PASSWORD, source="127.0.0.1"))
    sent = 0
    original = psycopg.AsyncConnection.execute

    async def counted(self: psycopg.AsyncConnection[Any], *args: Any, **kwargs: Any) -> Any:
        nonlocal sent
        sent += 1
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(psycopg.AsyncConnection, "execute", counted)
    answers = await asyncio.gather(*(auth.authenticate_on_loop(token) for _ in range(16)))
    assert all(answer is not None and answer.role is Role.OPERATOR for answer in answers)
    assert 1 <= sent <= 4

    first = asyncio.create_task(auth.authenticate_on_loop(token))
    state = auth.loop_reads._postgres
    assert state is not None
    for _ in range(10_000):
        if state.lock.locked() and not state.waiting:  # its read is out
            break
        await asyncio.sleep(0)
    else:
        pytest.fail("the first check's read never went out")
    set_role(engine, "ann", Role.VIEWER)  # committed while that read is in flight
    later = await auth.authenticate_on_loop(token)
    assert later is not None
    assert later.role is Role.VIEWER
    assert await first is not None
    auth.loop_reads.close()
