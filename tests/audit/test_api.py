"""GET /api/v1/audit and /api/v1/audit/verify, and the rows the API's own actions leave
(logins with the client's address, user and token changes by an admin)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.engine import Engine

from pstg.api.app import create_app
from pstg.api.routers import auth as auth_router
from pstg.auth import users
from pstg.auth.roles import Role
from tests.api.conftest import PASSWORD, add_users, asgi_client, bearer, login, make_context
from tests.audit.conftest import append, delete, update


@pytest.fixture
async def client(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setattr(auth_router, "FAILED_LOGIN_DELAY_S", 0.0)
    add_users(engine)
    async with asgi_client(create_app(make_context(engine))) as client:
        yield client


async def as_role(client: httpx.AsyncClient, role: Role) -> dict[str, str]:
    return bearer(await login(client, role.label))


async def test_logins_and_admin_actions_are_listed(client: httpx.AsyncClient) -> None:
    refused = await client.post(
        "/api/v1/auth/token", data={"username": "viewer", "password": "wrong password"}
    )
    assert refused.status_code == 401
    admin = await as_role(client, Role.ADMIN)
    created = await client.post(
        "/api/v1/users",
        headers=admin,
        json={"name": "ann", "password": PASSWORD, "role": "viewer"},
    )
    assert created.status_code == 201
    token = await client.post(
        "/api/v1/tokens", headers=admin, json={"username": "ann", "name": "grafana"}
    )
    assert token.status_code == 201
    last_admin = await client.patch("/api/v1/users/admin", headers=admin, json={"enabled": False})
    assert last_admin.status_code == 422

    engineer = await as_role(client, Role.ENGINEER)
    response = await client.get("/api/v1/audit", headers=engineer)
    assert response.status_code == 200, response.text
    body = response.json()
    entries = [
        (e["actor"], e["role"], e["via"], e["source"], e["action"], e["target"], e["result"])
        for e in body["entries"]
    ]
    assert entries == [
        ("viewer", "viewer", "password", "127.0.0.1", "login", "user:viewer", "denied"),
        ("admin", "admin", "password", "127.0.0.1", "login", "user:admin", "ok"),
        ("admin", "admin", "access_token", "127.0.0.1", "user.add", "user:ann", "ok"),
        ("admin", "admin", "access_token", "127.0.0.1", "token.create", "token:1", "ok"),
        ("admin", "admin", "access_token", "127.0.0.1", "user.update", "user:admin", "failed"),
        ("engineer", "engineer", "password", "127.0.0.1", "login", "user:engineer", "ok"),
    ]
    first = body["entries"][0]
    assert first["id"] == 1
    assert first["ts"].endswith("Z")
    assert first["detail"] == "wrong password"
    assert len(first["hash"]) == 64
    assert body["entries"][2]["new_value"] == {"role": "viewer", "enabled": True}
    assert "last enabled admin" in body["entries"][4]["detail"]
    assert token.json()["token"] not in response.text
    assert PASSWORD not in response.text
    assert (body["limit"], body["next_after"]) == (100, None)


async def test_filters_and_pages(client: httpx.AsyncClient, engine: Engine) -> None:
    engineer = await as_role(client, Role.ENGINEER)  # row 1: this login
    append(engine, 5)

    async def ids(**params: str | int) -> list[int]:
        response = await client.get("/api/v1/audit", headers=engineer, params=params)
        assert response.status_code == 200, response.text
        return [entry["id"] for entry in response.json()["entries"]]

    assert await ids() == [1, 2, 3, 4, 5, 6]
    assert await ids(action="login") == [1]
    assert await ids(actor="alice") == [2, 3, 4, 5, 6]
    assert await ids(actor="alice", action="test.action2") == [3]
    assert await ids(**{"from": "now-1h", "to": "now+1m"}) == [1, 2, 3, 4, 5, 6]
    assert await ids(**{"from": "now+1m"}) == []
    page = await client.get("/api/v1/audit", headers=engineer, params={"limit": 4})
    assert page.json()["next_after"] == 4
    assert await ids(limit=4, after=4) == [5, 6]
    cases: list[tuple[dict[str, str | int], str]] = [
        ({"limit": 0}, "query parameter 'limit'"),
        ({"after": -1}, "query parameter 'after'"),
        ({"from": "yesterday"}, "query parameter 'from'"),
        ({"actor": "a\x00"}, "must not contain NUL"),
    ]
    for params, detail in cases:
        response = await client.get("/api/v1/audit", headers=engineer, params=params)
        assert response.status_code == 422, params
        assert detail in response.json()["detail"]


async def test_verify_names_the_damage(client: httpx.AsyncClient, engine: Engine) -> None:
    engineer = await as_role(client, Role.ENGINEER)
    append(engine, 5)
    intact = await client.get("/api/v1/audit/verify", headers=engineer)
    assert intact.status_code == 200
    body = intact.json()
    assert body["ok"] is True
    assert body["checked"] == 6
    assert body["problems"] == []
    assert body["head_id"] == 6
    assert len(body["head_hash"]) == 64

    update(engine, 2, target="user:nobody")
    delete(engine, 4)
    damaged = (await client.get("/api/v1/audit/verify", headers=engineer)).json()
    assert damaged["ok"] is False
    assert damaged["checked"] == 5
    assert [(p["id"], p["kind"]) for p in damaged["problems"]] == [(2, "edited"), (4, "deleted")]
    assert damaged["problems"][1]["message"] == "row 4 is missing (the ids jump to 5)"
    assert damaged["problem_count"] == 2


@pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/audit/verify"])
async def test_the_audit_is_for_engineers(client: httpx.AsyncClient, path: str) -> None:
    for role in Role:
        response = await client.get(path, headers=await as_role(client, role))
        assert response.status_code == (200 if role >= Role.ENGINEER else 403), role


async def test_a_user_change_that_cannot_be_audited_does_not_happen(engine: Engine) -> None:
    from tests.audit.test_actions import break_the_audit

    add_users(engine)
    app = create_app(make_context(engine))
    # A 500 answers the client; the transport must not re-raise the error into the test.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        admin = bearer(await login(client, "admin"))
        break_the_audit(engine)
        response = await client.post(
            "/api/v1/users",
            headers=admin,
            json={"name": "ann", "password": PASSWORD, "role": "viewer"},
        )
        assert response.status_code in (500, 503)
        assert "ann" not in [user.name for user in users.list_users(engine)]
        refused = await client.post(
            "/api/v1/auth/token", data={"username": "viewer", "password": PASSWORD}
        )
        assert refused.status_code in (500, 503)
    assert users.get_user(engine, "viewer").last_login_at is None
