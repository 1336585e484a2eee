"""The role matrix: every endpoint × every kind of caller → the documented status.

Callers: a user of each role with an access token, an API token of a viewer, no token, a
garbage token, another scheme (Basic), an expired access token, a revoked API token, and a
disabled user's access and API tokens. The table of endpoints must list every route the app
has, so a new endpoint cannot ship without its line here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from pstg.auth import users
from pstg.auth.roles import Role
from pstg.auth.service import AuthService
from pstg.auth.tables import api_tokens
from pstg.model import Sample
from pstg.storage.rows import to_micros
from tests.api.conftest import ALARM, PASSWORD, SECRET, Api, bearer, login, served

OK = "ok"
"""The endpoint's success status (200, or 201 for creations)."""


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    """The route template, as the app declares it."""
    role: Role | None
    """The lowest role admitted; None: open to anyone."""
    success: int = 200

    def request(self, api: Api, n: int) -> dict[str, Any]:
        """Arguments for a request that succeeds when authorized (fresh objects per call)."""
        make = REQUESTS.get((self.method, self.path))
        return {} if make is None else make(api, n)


def _new_user(api: Api, n: int) -> dict[str, Any]:
    return {"json": {"name": f"matrix{n}", "password": PASSWORD, "role": "viewer"}}


def _new_token(api: Api, n: int) -> dict[str, Any]:
    return {"json": {"username": "viewer", "name": f"matrix{n}"}}


def _token_to_revoke(api: Api, n: int) -> dict[str, Any]:
    info, _ = users.create_api_token(api.engine, "viewer", f"revoke{n}")
    return {"path": {"token_id": info.id}}


def _login(api: Api, n: int) -> dict[str, Any]:
    return {"data": {"username": "viewer", "password": PASSWORD}}


def _alarm_service(api: Api) -> Any:
    service = api.context.alarms
    assert service is not None
    return service


def _unacknowledged(api: Api, n: int) -> dict[str, Any]:
    """Make the test alarm active and unacknowledged again (pump1.running 0, then 1)."""
    engine = _alarm_service(api).engine
    now = datetime.now(UTC)
    if engine.get(ALARM).state.value != "unacknowledged":
        engine.process([Sample("pump1.running", now - timedelta(milliseconds=2), 0.0)])
        engine.process([Sample("pump1.running", now - timedelta(milliseconds=1), 1.0)])
    return {"path": {"alarm_id": ALARM}, "json": {"comment": f"matrix {n}"}}


def _shelved(api: Api, n: int) -> dict[str, Any]:
    engine = _alarm_service(api).engine
    if engine.get(ALARM).state.value != "shelved":
        _in_service(engine)
        engine.shelve(ALARM, "setup", None, 600)
    return {"path": {"alarm_id": ALARM}, "json": {"comment": f"matrix {n}"}}


def _in_service(engine: Any) -> None:
    if engine.get(ALARM).state.value == "out_of_service":
        engine.set_out_of_service(ALARM, "setup", None, True)


def _servable(api: Api, n: int) -> dict[str, Any]:
    engine = _alarm_service(api).engine
    _in_service(engine)
    if engine.get(ALARM).state.value == "shelved":
        engine.unshelve(ALARM, "setup", None)
    return {"path": {"alarm_id": ALARM}, "json": {"comment": f"matrix {n}"}}


def _out_of_service(api: Api, n: int) -> dict[str, Any]:
    engine = _alarm_service(api).engine
    if engine.get(ALARM).state.value != "out_of_service":
        engine.set_out_of_service(ALARM, "setup", None, False)
    return {"path": {"alarm_id": ALARM}, "json": {"comment": f"matrix {n}"}}


REQUESTS: dict[tuple[str, str], Callable[[Api, int], dict[str, Any]]] = {
    ("POST", "/api/v1/alarms/ack"): lambda api, n: {
        "json": {**_unacknowledged(api, n)["json"], "all": True}
    },
    ("POST", "/api/v1/alarms/{alarm_id}/ack"): _unacknowledged,
    ("POST", "/api/v1/alarms/{alarm_id}/shelve"): lambda api, n: {
        "path": {"alarm_id": ALARM},
        "json": {"comment": f"matrix {n}", "duration": "10m"},
    },
    ("POST", "/api/v1/alarms/{alarm_id}/unshelve"): _shelved,
    ("POST", "/api/v1/alarms/{alarm_id}/out-of-service"): _servable,
    ("POST", "/api/v1/alarms/{alarm_id}/in-service"): _out_of_service,
    ("GET", "/api/v1/series"): lambda api, n: {"params": {"tag": "outflow"}},
    ("GET", "/api/v1/trends"): lambda api, n: {"params": {"tag": "outflow", "points": 10}},
    ("GET", "/api/v1/summary"): lambda api, n: {"params": {"tag": "outflow"}},
    ("GET", "/api/v1/users/{name}"): lambda api, n: {"path": {"name": "viewer"}},
    ("PATCH", "/api/v1/users/{name}"): lambda api, n: {
        "path": {"name": "viewer"},
        "json": {"role": "viewer"},
    },
    ("POST", "/api/v1/users"): _new_user,
    ("POST", "/api/v1/tokens"): _new_token,
    ("DELETE", "/api/v1/tokens/{token_id}"): _token_to_revoke,
    ("POST", "/api/v1/auth/token"): _login,
    ("POST", "/api/v1/auth/session"): _login,
    ("POST", "/api/v1/commands"): lambda api, n: {
        "json": {"tag": "pump1.speed", "value": n % 100, "comment": f"matrix {n}"}
    },
    **{
        ("POST", f"/api/v1/commands/{{command_id}}/{step}"): lambda api, n: {
            "path": {"command_id": 999_999}
        }
        for step in ("operate", "cancel")
    },
    ("GET", "/api/v1/commands/{command_id}"): lambda api, n: {"path": {"command_id": 999_999}},
    ("POST", "/api/v1/notifications/test"): lambda api, n: {"json": {"to": "nobody"}},
}

ENDPOINTS = [
    Endpoint("GET", "/api/v1/health", None),
    Endpoint("POST", "/api/v1/auth/token", None),
    Endpoint("GET", "/api/v1/auth/me", Role.VIEWER),
    Endpoint("POST", "/api/v1/auth/session", None),
    # With a bearer token there is no session to end: 200, {"ended": false}.
    Endpoint("DELETE", "/api/v1/auth/session", Role.VIEWER),
    Endpoint("GET", "/metrics", Role.VIEWER),
    Endpoint("GET", "/api/v1/devices", Role.VIEWER),
    Endpoint("GET", "/api/v1/tags", Role.VIEWER),
    Endpoint("GET", "/api/v1/stream", Role.VIEWER),
    Endpoint("GET", "/api/v1/series", Role.VIEWER),
    Endpoint("GET", "/api/v1/trends", Role.VIEWER),
    Endpoint("GET", "/api/v1/summary", Role.VIEWER),
    Endpoint("GET", "/api/v1/events", Role.VIEWER),
    Endpoint("GET", "/api/v1/alarms", Role.VIEWER),
    Endpoint("GET", "/api/v1/alarms/kpi", Role.VIEWER),
    Endpoint("POST", "/api/v1/alarms/ack", Role.OPERATOR),
    Endpoint("POST", "/api/v1/alarms/{alarm_id}/ack", Role.OPERATOR),
    Endpoint("POST", "/api/v1/alarms/{alarm_id}/shelve", Role.OPERATOR),
    Endpoint("POST", "/api/v1/alarms/{alarm_id}/unshelve", Role.OPERATOR),
    Endpoint("POST", "/api/v1/alarms/{alarm_id}/out-of-service", Role.ENGINEER),
    Endpoint("POST", "/api/v1/alarms/{alarm_id}/in-service", Role.ENGINEER),
    Endpoint("GET", "/api/v1/commands", Role.VIEWER),
    Endpoint("GET", "/api/v1/commands/tags", Role.VIEWER),
    # A direct command: selected and operated in one request (200; the test device is down).
    Endpoint("POST", "/api/v1/commands", Role.VIEWER),
    # No such command: the role lets every user in, the service answers 404.
    Endpoint("GET", "/api/v1/commands/{command_id}", Role.VIEWER, 404),
    Endpoint("POST", "/api/v1/commands/{command_id}/operate", Role.VIEWER, 404),
    Endpoint("POST", "/api/v1/commands/{command_id}/cancel", Role.VIEWER, 404),
    Endpoint("GET", "/api/v1/notifications", Role.OPERATOR),
    # No such person (the test station has no notifications): engineers get in, then 404.
    Endpoint("POST", "/api/v1/notifications/test", Role.ENGINEER, 404),
    Endpoint("GET", "/api/v1/config", Role.ENGINEER),
    Endpoint("GET", "/api/v1/audit", Role.ENGINEER),
    Endpoint("GET", "/api/v1/audit/verify", Role.ENGINEER),
    Endpoint("GET", "/api/v1/users", Role.ADMIN),
    Endpoint("POST", "/api/v1/users", Role.ADMIN, 201),
    Endpoint("GET", "/api/v1/users/{name}", Role.ADMIN),
    Endpoint("PATCH", "/api/v1/users/{name}", Role.ADMIN),
    Endpoint("GET", "/api/v1/tokens", Role.ADMIN),
    Endpoint("POST", "/api/v1/tokens", Role.ADMIN, 201),
    Endpoint("DELETE", "/api/v1/tokens/{token_id}", Role.ADMIN),
]


@dataclass(frozen=True)
class Caller:
    name: str
    headers: dict[str, str]
    role: Role | None
    """The role the caller acts with; None: not authenticated (401 where a role is needed)."""


async def callers(api: Api) -> list[Caller]:
    found = [Caller(role.label, await api.headers(role), role) for role in Role]
    _, viewer_token = users.create_api_token(api.engine, "viewer", "grafana")
    found.append(Caller("viewer API token", bearer(viewer_token), Role.VIEWER))

    found.append(Caller("no token", {}, None))
    found.append(Caller("garbage token", bearer("garbage"), None))
    found.append(Caller("garbage API token", bearer("pstg_" + "x" * 43), None))
    found.append(Caller("basic auth", {"Authorization": "Basic YWRtaW46cGFzcw=="}, None))

    past = datetime.now(UTC) - timedelta(hours=1)
    stale_service = AuthService(api.engine, secret=SECRET, clock=lambda: past)
    expired, _ = stale_service.issue_access_token(stale_service.login("admin", PASSWORD))
    found.append(Caller("expired access token", bearer(expired), None))
    other_secret = AuthService(api.engine, secret="another-secret-" + "y" * 40)
    forged, _ = other_secret.issue_access_token(other_secret.login("admin", PASSWORD))
    found.append(Caller("token signed with another secret", bearer(forged), None))

    revoked_info, revoked = users.create_api_token(api.engine, "admin", "revoked")
    users.revoke_api_token(api.engine, revoked_info.id)
    found.append(Caller("revoked API token", bearer(revoked), None))
    expiring_info, expiring = users.create_api_token(
        api.engine, "admin", "expired", datetime.now(UTC) + timedelta(days=1)
    )
    with api.engine.begin() as connection:  # as if that day had passed
        connection.execute(
            api_tokens.update()
            .where(api_tokens.c.id == expiring_info.id)
            .values(expires_at=to_micros(past))
        )
    found.append(Caller("expired API token", bearer(expiring), None))

    users.add_user(api.engine, "former", PASSWORD, Role.ADMIN)
    former_access = await login(api.client, "former")
    _, former_token = users.create_api_token(api.engine, "former", "script")
    users.set_enabled(api.engine, "former", False)
    found.append(Caller("disabled user's access token", bearer(former_access), None))
    found.append(Caller("disabled user's API token", bearer(former_token), None))
    return found


def expected(endpoint: Endpoint, caller: Caller) -> int:
    if endpoint.role is None:
        return endpoint.success
    if caller.role is None:
        return 401
    return endpoint.success if caller.role >= endpoint.role else 403


def test_the_matrix_lists_every_route(api: Api) -> None:
    routes = {
        (method.upper(), path)
        for path, operations in api.app.openapi()["paths"].items()
        for method in operations
    }
    assert routes == {(endpoint.method, endpoint.path) for endpoint in ENDPOINTS}


STREAMS = {("GET", "/api/v1/stream")}
"""Endpoints that answer with a stream: asked over real HTTP, only the head read."""


async def test_role_matrix(api: Api) -> None:
    everyone = await callers(api)
    counter = itertools.count()
    wrong: list[str] = []
    async with served(api.app) as base, httpx.AsyncClient(base_url=base) as real:
        for endpoint, caller in itertools.product(ENDPOINTS, everyone):
            arguments = endpoint.request(api, next(counter))
            url = endpoint.path.format(**arguments.pop("path", {}))
            if (endpoint.method, endpoint.path) in STREAMS:
                async with real.stream(
                    endpoint.method, url, headers=caller.headers, **arguments
                ) as response:
                    if response.status_code != 200:
                        await response.aread()
            else:
                response = await api.client.request(
                    endpoint.method, url, headers=caller.headers, **arguments
                )
                api.client.cookies.clear()  # POST /auth/session sets one: callers are headers
            check(endpoint, caller, response, wrong)
    assert not wrong, "\n".join(wrong)


def check(endpoint: Endpoint, caller: Caller, response: httpx.Response, wrong: list[str]) -> None:
    want = expected(endpoint, caller)
    if response.status_code != want:
        shown = (
            "(a stream)"
            if want == 200 and endpoint.path == "/api/v1/stream"
            else (response.text[:120])
        )
        wrong.append(
            f"{endpoint.method} {endpoint.path} as {caller.name}: "
            f"{response.status_code} (expected {want}) {shown}"
        )
        return
    media = "application/json"
    if want == 200 and endpoint.path == "/metrics":
        media = "text/plain"
    elif want == 200 and (endpoint.method, endpoint.path) in STREAMS:
        media = "text/event-stream"
    assert response.headers["content-type"].startswith(media)
    if want == 401:
        assert response.headers.get("www-authenticate") == "Bearer"
        assert response.json()["detail"]
    if want == 403:
        assert "needs the role" in response.json()["detail"]


async def test_a_role_change_applies_to_the_next_request(api: Api) -> None:
    headers = await api.headers(Role.ENGINEER)
    assert (await api.client.get("/api/v1/config", headers=headers)).status_code == 200
    users.set_role(api.engine, "engineer", Role.VIEWER)
    assert (await api.client.get("/api/v1/config", headers=headers)).status_code == 403
    assert (await api.client.get("/api/v1/tags", headers=headers)).status_code == 200
