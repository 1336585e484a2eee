"""HTTP hygiene (issue 10 items 10 and 11): forwarded headers only from trusted proxies, the
security headers, the Host allow-list, no server banner, and /docs without a CDN."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy.engine import Engine

from pstg import audit
from pstg.api.app import create_app
from pstg.auth.roles import Role
from pstg.config.models import ApiConfig, StationConfig
from pstg.service.api_socket import listen
from pstg.service.http_server import ApiServer
from tests.api.conftest import PASSWORD, STATION, Api, asgi_client, bearer, login, make_context

FORGED = "127.0.0.77"


def station(**api: object) -> StationConfig:
    return STATION.model_copy(update={"api": ApiConfig.model_validate(api)})


@asynccontextmanager
async def served(engine: Engine, config: StationConfig) -> AsyncIterator[httpx.AsyncClient]:
    """The app of `config` behind the service's own uvicorn server on a free loopback port."""
    sock = listen("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = ApiServer(create_app(make_context(engine, config=config)), sock)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        await server.stop()


def last_login_source(engine: Engine) -> str:
    entries = audit.list_entries(engine, action="login", limit=10_000)
    return entries[-1].source


async def test_forwarded_for_is_believed_only_from_trusted_proxies(api: Api) -> None:
    forged = {"X-Forwarded-For": FORGED}
    form = {"username": "viewer", "password": PASSWORD}
    cases = [
        ({}, "127.0.0.1"),  # the default: nobody is a proxy
        ({"trusted_proxies": ["127.0.0.128/25"]}, "127.0.0.1"),  # a proxy, but not this peer
        ({"trusted_proxies": ["127.0.0.1"]}, FORGED),
        ({"trusted_proxies": ["127.0.0.0/8"]}, FORGED),
    ]
    for settings, source in cases:
        async with served(api.engine, station(**settings)) as client:
            response = await client.post("/api/v1/auth/token", data=form, headers=forged)
            assert response.status_code == 200, response.text
            assert last_login_source(api.engine) == source, settings


async def test_real_server_sends_no_banner_and_the_security_headers(api: Api) -> None:
    async with served(api.engine, STATION) as client:
        response = await client.get("/api/v1/health")
    assert response.status_code == 200
    assert "server" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_security_headers_on_every_answer(api: Api) -> None:
    token = await login(api.client, "admin")
    answers = {
        "health": await api.client.get("/api/v1/health"),
        "login": await api.client.post(
            "/api/v1/auth/token", data={"username": "admin", "password": PASSWORD}
        ),
        "me": await api.client.get("/api/v1/auth/me", headers=bearer(token)),
        "users": await api.client.get("/api/v1/users", headers=bearer(token)),
        "401": await api.client.get("/api/v1/tags"),
        "404": await api.client.get("/no/such/page"),
        "422": await api.client.get("/api/v1/series", headers=bearer(token)),
    }
    for name, response in answers.items():
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", name
        assert headers["x-frame-options"] == "DENY", name
        assert headers["referrer-policy"] == "no-referrer", name
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy, name
        assert "frame-ancestors 'none'" in policy, name
        assert headers["cache-control"] == "no-store", name
        assert "server" not in headers, name
    assert answers["login"].status_code == 200
    assert answers["users"].status_code == 200


async def test_host_allow_list(api: Api) -> None:
    for host in ["127.0.0.1", "127.0.0.1:8000", "localhost:8000", "LOCALHOST", "[::1]:8000"]:
        response = await api.client.get("/api/v1/health", headers={"Host": host})
        assert response.status_code == 200, host
    for host in ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "[::1", "a:b:c"]:
        response = await api.client.get("/api/v1/health", headers={"Host": host})
        assert response.status_code == 400, host
        assert response.json()["detail"].endswith("is not served here (api.allowed_hosts)")
        assert response.headers["x-frame-options"] == "DENY"

    # Configured: exactly the listed names (and a domain's names with *.).
    config = station(allowed_hosts=["gateway.plant.example", "*.scada.example"])
    async with asgi_client(create_app(make_context(api.engine, config=config))) as client:
        for host, status in [
            ("gateway.plant.example", 200),
            ("ps1.scada.example:8000", 200),
            ("scada.example", 400),
            ("127.0.0.1", 400),
        ]:
            response = await client.get("/api/v1/health", headers={"Host": host})
            assert response.status_code == status, host
    # The configured api.host is allowed by default.
    config = station(host="127.0.0.2")
    async with asgi_client(create_app(make_context(api.engine, config=config))) as client:
        response = await client.get("/api/v1/health", headers={"Host": "127.0.0.2:8000"})
        assert response.status_code == 200


async def test_docs_are_served_without_a_cdn(api: Api) -> None:
    page = await api.client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert not re.search(r"https?://|//[a-z]", html, re.IGNORECASE), html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3
    assert all(url.startswith("/docs/assets/") for url in assets), assets
    for url in assets:
        response = await api.client.get(url)
        assert response.status_code == 200, url
        assert len(response.content) > 0
        assert "no-store" not in response.headers.get("cache-control", "")
        if url.endswith(".js"):
            assert response.headers["content-type"].startswith("text/javascript")
            assert "cdn.jsdelivr" not in response.text
    init = (await api.client.get("/docs/assets/init.js")).text
    assert '"/openapi.json"' in init
    # The page's policy admits its own scripts only, no inline ones.
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert (await api.client.get("/openapi.json")).status_code == 200


async def test_roles_still_apply_behind_the_headers(api: Api) -> None:
    response = await api.get_as(Role.VIEWER, "/api/v1/users")
    assert response.status_code == 403
