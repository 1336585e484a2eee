"""The console's pages as the server renders them, without a browser, on both databases: who
may open the notifications page, and what it says on a station without `notifications:`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from pstg.api.app import create_app
from pstg.auth import passwords
from pstg.console import install_console
from tests.api.conftest import PASSWORD, STATION, add_users, asgi_client, make_context


@pytest.fixture
async def client(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )
    assert STATION.notifications is None
    context = make_context(engine)
    add_users(engine)
    app = create_app(context)
    install_console(app)
    async with asgi_client(app) as opened:
        yield opened


async def page_as(client: httpx.AsyncClient, role: str, path: str) -> httpx.Response:
    login = await client.post("/api/v1/auth/session", data={"username": role, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return await client.get(path)


async def test_without_a_notifications_section_the_page_says_so(client: httpx.AsyncClient):
    page = await page_as(client, "engineer", "/notifications")

    assert page.status_code == 200
    assert "This station sends no notifications" in page.text
    assert "<code>notifications:</code> section" in page.text
    assert 'id="notify-test-form"' not in page.text  # nothing to test
    assert 'id="notify-table"' in page.text
    journal = await client.get("/api/v1/notifications")  # what the page then asks: no error
    assert journal.status_code == 200
    assert journal.json()["attempts"] == []


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("operator", 200)])
async def test_the_notifications_page_is_for_operators_and_above(
    client: httpx.AsyncClient, role: str, status: int
):
    page = await page_as(client, role, "/notifications")

    assert page.status_code == status
    assert ('href="/notifications"' in page.text) is (role != "viewer")  # the menu
    if status == 403:
        assert "needs the role operator or higher" in page.text
