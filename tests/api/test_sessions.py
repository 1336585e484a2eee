"""The web console's browser session: POST /api/v1/auth/session sets an HttpOnly,
SameSite=Strict cookie that the API accepts where it accepts a bearer token; changes made
with it need the session's CSRF token; logout ends it for good; idle and absolute limits;
a new password or a disabled user ends it (docs/security.md, "Browser sessions")."""

from __future__ import annotations

import functools
import operator
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa

from pstg.api.security import CSRF_HEADER, SESSION_COOKIE
from pstg.audit.tables import audit_log
from pstg.auth import users
from pstg.auth.roles import Role
from pstg.auth.sessions import hash_session_token
from pstg.auth.tables import sessions
from pstg.model import Sample
from tests.api.conftest import ALARM, PASSWORD, Api, asgi_client


async def log_in(client: httpx.AsyncClient, name: str = "operator") -> dict[str, str]:
    """Log `client` in by session: the answer's JSON (the cookie stays in the client)."""
    answer = await client.post(
        "/api/v1/auth/session", data={"username": name, "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, str] = answer.json()
    return body


def audit_actions(api: Api) -> list[tuple[str, str, str, str]]:
    with api.engine.connect() as connection:
        rows = connection.execute(
            sa.select(audit_log.c.action, audit_log.c.actor, audit_log.c.via, audit_log.c.result)
            .order_by(audit_log.c.id)
        ).all()  # fmt: skip
    return [tuple(row) for row in rows]


async def test_the_session_cookie_is_http_only_strict_and_not_readable_as_a_token(api: Api):
    answer = await api.client.post(
        "/api/v1/auth/session", data={"username": "operator", "password": PASSWORD}
    )

    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=pstgs_")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on loopback: a Secure cookie would be dropped
    body = answer.json()
    assert body["username"] == "operator"
    assert body["role"] == "operator"
    assert body["idle_s"] == 1800
    assert len(body["csrf_token"]) == 43
    assert body["csrf_token"] not in cookie
    token = api.client.cookies[SESSION_COOKIE]
    with api.engine.connect() as connection:  # only the hash is stored
        stored = connection.execute(sa.select(sessions.c.token_hash)).scalars().all()
    assert stored == [hash_session_token(token)]
    assert ("login", "operator", "password", "ok") in audit_actions(api)


async def test_over_https_the_cookie_is_secure(api: Api):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app), base_url="https://127.0.0.1"
    ) as client:
        answer = await client.post(
            "/api/v1/auth/session", data={"username": "viewer", "password": PASSWORD}
        )
    assert answer.status_code == 200
    assert "Secure" in answer.headers["set-cookie"]


async def test_the_cookie_authenticates_reads_as_the_user(api: Api):
    await log_in(api.client, "engineer")

    me = await api.client.get("/api/v1/auth/me")
    config = await api.client.get("/api/v1/config")

    assert me.status_code == 200
    assert me.json()["username"] == "engineer"
    assert me.json()["via"] == "session"
    assert config.status_code == 200


async def test_a_change_with_the_cookie_needs_the_csrf_token(api: Api):
    session = await log_in(api.client, "operator")
    api.context.alarms.engine.process(  # type: ignore[union-attr]
        [_sample("pump1.running", 1.0)]
    )
    url = f"/api/v1/alarms/{ALARM}/ack"

    without = await api.client.post(url, json={"comment": "seen"})
    wrong = await api.client.post(url, json={"comment": "seen"}, headers={CSRF_HEADER: "x" * 43})
    right = await api.client.post(
        url, json={"comment": "seen"}, headers={CSRF_HEADER: session["csrf_token"]}
    )

    assert without.status_code == 403
    assert "CSRF" in without.json()["detail"]
    assert wrong.status_code == 403
    assert right.status_code == 200, right.text
    actions = audit_actions(api)
    assert ("csrf.refused", "operator", "session", "denied") in actions
    assert ("alarm.acknowledge", "operator", "session", "ok") in actions


async def test_a_bearer_token_needs_no_csrf_token_even_beside_a_cookie(api: Api):
    await log_in(api.client, "viewer")  # a cookie of someone else in the jar
    admin = await api.headers(Role.ADMIN)
    answer = await api.client.post(
        "/api/v1/users",
        json={"name": "newcomer", "password": PASSWORD, "role": "viewer"},
        headers=admin,
    )
    assert answer.status_code == 201, answer.text  # the bearer token decides, not the cookie


async def test_the_session_role_is_checked_like_a_tokens(api: Api):
    session = await log_in(api.client, "viewer")

    answer = await api.client.post(
        f"/api/v1/alarms/{ALARM}/ack",
        json={"comment": "not mine"},
        headers={CSRF_HEADER: session["csrf_token"]},
    )

    assert answer.status_code == 403
    assert "needs the role operator" in answer.json()["detail"]
    assert ("role.refused", "viewer", "session", "denied") in audit_actions(api)


async def test_logout_ends_the_session_for_good(api: Api):
    session = await log_in(api.client, "operator")
    token = api.client.cookies[SESSION_COOKIE]

    without_csrf = await api.client.delete("/api/v1/auth/session")
    logout = await api.client.delete(
        "/api/v1/auth/session", headers={CSRF_HEADER: session["csrf_token"]}
    )

    assert without_csrf.status_code == 403
    assert logout.status_code == 200
    assert logout.json() == {"ended": True}
    assert f'{SESSION_COOKIE}=""' in logout.headers["set-cookie"]  # the browser forgets it
    assert "Max-Age=0" in logout.headers["set-cookie"]
    async with asgi_client(api.app) as replay:  # someone who kept the cookie
        replay.cookies.set(SESSION_COOKIE, token)
        again = await replay.get("/api/v1/auth/me")
    assert again.status_code == 401
    assert "logged out" in again.json()["detail"]
    actions = audit_actions(api)
    assert ("logout", "operator", "session", "ok") in actions
    assert ("session.refused", "operator", "session", "denied") in actions


async def test_an_unknown_cookie_is_refused(api: Api):
    api.client.cookies.set(SESSION_COOKIE, "pstgs_" + "y" * 43)
    answer = await api.client.get("/api/v1/tags")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


async def test_a_session_ends_after_its_idle_time_and_its_lifetime(api: Api):
    auth = api.context.auth
    start = datetime.now(UTC)
    auth.clock = lambda: start
    await log_in(api.client)

    auth.clock = lambda: start + timedelta(minutes=29)
    assert (await api.client.get("/api/v1/tags")).status_code == 200  # and it is seen now
    auth.clock = lambda: start + timedelta(minutes=58)
    assert (await api.client.get("/api/v1/tags")).status_code == 200
    auth.clock = lambda: start + timedelta(minutes=58 + 31)
    idle = await api.client.get("/api/v1/tags")
    assert idle.status_code == 401
    assert "idle" in idle.json()["detail"]

    auth.clock = lambda: start
    await log_in(api.client)
    for minutes in range(20, 12 * 60, 20):  # busy all night
        auth.clock = functools.partial(operator.add, start, timedelta(minutes=minutes))
        assert (await api.client.get("/api/v1/tags")).status_code == 200, minutes
    auth.clock = lambda: start + timedelta(hours=12)
    late = await api.client.get("/api/v1/tags")
    assert late.status_code == 401
    assert "time limit" in late.json()["detail"]


async def test_a_new_password_or_a_disabled_user_ends_the_session(api: Api):
    await log_in(api.client, "operator")
    users.set_password(api.engine, "operator", "another horse battery")
    changed = await api.client.get("/api/v1/tags")
    assert changed.status_code == 401
    assert "password changed" in changed.json()["detail"]

    await log_in(api.client, "viewer")
    users.set_enabled(api.engine, "viewer", False)
    disabled = await api.client.get("/api/v1/tags")
    assert disabled.status_code == 401
    assert "disabled" in disabled.json()["detail"]


async def test_session_logins_share_the_token_logins_throttle(api: Api):
    for _ in range(5):
        wrong = await api.client.post(
            "/api/v1/auth/session", data={"username": "operator", "password": "wrong"}
        )
        assert wrong.status_code == 401
        assert wrong.json()["detail"] == "invalid user name or password"
        assert "set-cookie" not in wrong.headers
    throttled = await api.client.post(
        "/api/v1/auth/token", data={"username": "operator", "password": PASSWORD}
    )
    assert throttled.status_code == 429


def _sample(tag: str, value: float) -> Sample:
    return Sample(tag, datetime.now(UTC), value)
