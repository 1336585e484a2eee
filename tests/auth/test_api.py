"""The auth and admin endpoints over HTTP (in-process ASGI, both backends)."""

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from pstg.api.app import create_app
from pstg.api.context import ApiContext
from pstg.api.routers import auth as auth_router
from pstg.auth.roles import Role
from pstg.auth.service import AuthService
from pstg.auth.users import add_user
from pstg.config.models import StationConfig
from pstg.metrics import Metrics
from tests.auth.conftest import PASSWORD, SECRET

pytestmark = pytest.mark.usefixtures("fast_hashing")
STATION = StationConfig.model_validate({"station": {"id": "ps-auth"}})


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    for role in Role:
        add_user(engine, role.label, PASSWORD, role)
    context = ApiContext(
        engine=engine,
        config=STATION,
        station_id=0,
        tag_ids={},
        auth=AuthService(engine, secret=SECRET),
        metrics=Metrics(dict, lambda: None),
    )
    transport = httpx.ASGITransport(app=create_app(context))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
def no_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth_router, "FAILED_LOGIN_DELAY_S", 0.0)


async def login(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/token", data={"username": name, "password": password})


async def bearer(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> dict[str, str]:
    response = await login(client, name, password)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_login_and_me(client: httpx.AsyncClient) -> None:
    response = await login(client, "operator")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"bearer {body['access_token']}"}
    )
    assert me.json() == {
        "username": "operator",
        "role": "operator",
        "via": "access_token",
        "token_id": None,
    }


async def test_a_failed_login_is_slow_and_says_why(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    response = await login(client, "viewer", "wrong password")
    assert time.monotonic() - started >= 0.5
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid user name or password"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.usefixtures("no_delay")
async def test_lockout_over_http(client: httpx.AsyncClient) -> None:
    for _ in range(5):
        assert (await login(client, "viewer", "wrong password")).status_code == 401
    response = await login(client, "viewer")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert response.json() == {
        "detail": "too many failed logins for this user name from this address: try again in 30 s"
    }


async def test_login_form_fields_are_required(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", data={"username": "viewer"})
    assert response.status_code == 422
    assert "password" in response.json()["detail"]


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "missing bearer token"),
        ({"Authorization": "Basic dmlld2VyOnB3"}, "missing bearer token"),
        ({"Authorization": "Bearer "}, "missing bearer token"),
        ({"Authorization": "Bearer garbage"}, "invalid access token"),
        ({"Authorization": "Bearer pstg_garbage"}, "unknown API token"),
    ],
)
async def test_no_valid_token_is_401_with_a_challenge(
    client: httpx.AsyncClient, headers: dict[str, str], detail: str
) -> None:
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401
    assert detail in response.json()["detail"]
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR, Role.ENGINEER])
async def test_user_admin_needs_the_admin_role(client: httpx.AsyncClient, role: Role) -> None:
    headers = await bearer(client, role.label)
    for method, url in [
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users"),
        ("PATCH", "/api/v1/users/viewer"),
        ("GET", "/api/v1/tokens"),
        ("POST", "/api/v1/tokens"),
        ("DELETE", "/api/v1/tokens/1"),
    ]:
        response = await client.request(method, url, headers=headers, json={})
        assert response.status_code == 403, (method, url)
        assert response.json() == {
            "detail": f"this needs the role admin or higher; {role.label!r} is {role.label}"
        }


async def test_manage_users(client: httpx.AsyncClient) -> None:
    admin = await bearer(client, "admin")

    async def call(method: str, url: str, json: Any = None) -> httpx.Response:
        return await client.request(method, f"/api/v1{url}", headers=admin, json=json)

    created = await call("POST", "/users", {"name": "ann", "password": PASSWORD, "role": "viewer"})
    assert created.status_code == 201
    assert created.json()["role"] == "viewer"
    assert created.json()["created_at"].endswith("Z")
    assert "password" not in created.text
    names = [user["name"] for user in (await call("GET", "/users")).json()]
    assert names == ["admin", "ann", "engineer", "operator", "viewer"]

    ann = await bearer(client, "ann")
    assert (await client.get("/api/v1/auth/me", headers=ann)).json()["role"] == "viewer"
    changed = await call("PATCH", "/users/ann", {"role": "engineer"})
    assert changed.json()["role"] == "engineer"
    assert (await client.get("/api/v1/auth/me", headers=ann)).json()["role"] == "engineer"
    assert (await call("PATCH", "/users/ann", {"enabled": False})).json()["enabled"] is False
    refused = await client.get("/api/v1/auth/me", headers=ann)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "user 'ann' is disabled"}
    await call("PATCH", "/users/ann", {"enabled": True, "password": "a new password"})
    assert (await login(client, "ann")).status_code == 401
    assert (await login(client, "ann", "a new password")).status_code == 200
    assert (await call("GET", "/users/ann")).json()["last_login_at"].endswith("Z")


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "detail"),
    [
        ("POST", "/users", {"name": "Viewer", "password": PASSWORD, "role": "viewer"}, 409,
         "user 'viewer' already exists"),
        ("POST", "/users", {"name": "a b", "password": PASSWORD, "role": "viewer"}, 422,
         "invalid user name 'a b'"),
        ("POST", "/users", {"name": "ann", "password": "short", "role": "viewer"}, 422,
         "at least 8 characters"),
        ("POST", "/users", {"name": "ann", "password": PASSWORD, "role": "root"}, 422,
         "body field 'role'"),
        ("POST", "/users", {"name": "ann"}, 422, "body field 'password': is required"),
        ("PATCH", "/users/nobody", {"role": "viewer"}, 404, "no user 'nobody'"),
        ("GET", "/users/nobody", None, 404, "no user 'nobody'"),
        ("GET", "/users/a%00b", None, 404, "no user 'a\\x00b'"),
        ("GET", "/tokens?username=%00", None, 404, "no user '\\x00'"),
        ("PATCH", "/users/%00", {"enabled": False}, 404, "no user '\\x00'"),
        ("PATCH", "/users/admin", {"enabled": False}, 422, "'admin' is the last enabled admin"),
        ("PATCH", "/users/admin", {"role": "viewer"}, 422, "'admin' is the last enabled admin"),
        ("POST", "/tokens", {"username": "nobody", "name": "x"}, 404, "no user 'nobody'"),
        ("POST", "/tokens", {"username": "viewer", "name": ""}, 422, "token name"),
        ("POST", "/tokens", {"username": "viewer", "name": "x", "expires_in_days": 0}, 422,
         "body field 'expires_in_days'"),
        ("GET", "/tokens?username=nobody", None, 404, "no user 'nobody'"),
        ("DELETE", "/tokens/12345", None, 404, "no API token with id 12345"),
        ("DELETE", f"/tokens/{10**30}", None, 404, "no API token with id"),
        ("DELETE", "/tokens/abc", None, 422, "path parameter 'token_id'"),
    ],
)  # fmt: skip
async def test_admin_mistakes_are_4xx_with_a_reason(
    client: httpx.AsyncClient, method: str, url: str, body: Any, status: int, detail: str
) -> None:
    headers = await bearer(client, "admin")
    response = await client.request(method, f"/api/v1{url}", headers=headers, json=body)
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]


async def test_api_token_lifecycle(client: httpx.AsyncClient) -> None:
    admin = await bearer(client, "admin")
    created = await client.post(
        "/api/v1/tokens",
        headers=admin,
        json={"username": "viewer", "name": "grafana", "expires_in_days": 30},
    )
    assert created.status_code == 201
    body = created.json()
    token = body.pop("token")
    assert token.startswith("pstg_")
    assert body["status"] == "active"
    assert body["expires_at"].endswith("Z")
    machine = {"Authorization": f"Bearer {token}"}
    me = (await client.get("/api/v1/auth/me", headers=machine)).json()
    assert me == {
        "username": "viewer",
        "role": "viewer",
        "via": "api_token",
        "token_id": body["id"],
    }

    listed = (await client.get("/api/v1/tokens", headers=admin)).json()
    assert token not in str(listed)
    assert [t["name"] for t in listed] == ["grafana"]
    assert listed[0]["last_used_at"] is not None
    assert (await client.get("/api/v1/tokens?username=admin", headers=admin)).json() == []

    revoked = await client.delete(f"/api/v1/tokens/{body['id']}", headers=admin)
    assert revoked.json()["status"] == "revoked"
    refused = await client.get("/api/v1/auth/me", headers=machine)
    assert refused.status_code == 401
    assert refused.json() == {"detail": f"API token {body['id']} has been revoked"}


async def test_openapi_declares_the_bearer_scheme(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == (
        "/api/v1/auth/token"
    )
    assert schema["paths"]["/api/v1/users"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]
    assert "security" not in schema["paths"]["/api/v1/auth/token"]["post"]
