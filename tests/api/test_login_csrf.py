"""Login CSRF: a page of another site posting a login to POST /api/v1/auth/session (to log
the victim's browser into the attacker's account) is refused 403 before the password is
looked at, and audited as `csrf.refused`; the console's own login, scripts and curl (no
Origin, no Sec-Fetch-Site) still log in (docs/security.md, "Browser sessions")."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pstg.api.same_site import cross_site_reason
from pstg.api.security import SESSION_COOKIE
from pstg.audit import verify
from pstg.audit.tables import audit_log
from pstg.auth.tables import sessions, users
from tests.api.conftest import PASSWORD, Api

SESSION = "/api/v1/auth/session"
"""The test client's requests carry `Host: 127.0.0.1` (tests.api.conftest.BASE_URL)."""


async def post_login(api: Api, headers: dict[str, str], password: str = PASSWORD) -> int:
    answer = await api.client.post(
        SESSION, data={"username": "operator", "password": password}, headers=headers
    )
    return answer.status_code


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "Cross-Site", "Origin": "null"},  # a sandboxed frame elsewhere
        {"Origin": "https://evil.example"},  # a browser without Sec-Fetch-Site
        {"Origin": "http://127.0.0.1:9999"},  # another port is another origin
        {"Origin": "https://127.0.0.1"},  # another scheme: port 443, not 80
        {"Origin": "http://127.0.0.1.evil.example"},
        {"Origin": "not a url"},
    ],
)
async def test_a_login_from_another_site_is_refused_and_audited(api: Api, headers: dict[str, str]):
    answer = await api.client.post(
        SESSION, data={"username": "operator", "password": PASSWORD}, headers=headers
    )

    assert answer.status_code == 403, answer.text
    assert "another site" in answer.json()["detail"]
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")
    with api.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(sessions)).scalar() == 0
        rows = connection.execute(
            sa.select(
                audit_log.c.action, audit_log.c.actor, audit_log.c.via, audit_log.c.result,
                audit_log.c.target, audit_log.c.detail,
            ).order_by(audit_log.c.id)
        ).all()  # fmt: skip
    refused = [row for row in rows if row.action == "csrf.refused"]
    assert len(refused) == 1, rows
    assert refused[0].actor == "operator"  # the account the page tried: the attacker's
    assert refused[0].via == "password"
    assert refused[0].result == "denied"
    assert refused[0].target == "POST /api/v1/auth/session"
    assert refused[0].detail.startswith("cross-site login: ")
    assert not [row for row in rows if row.action == "login"]  # the password was not tried
    assert verify(api.engine).ok


async def test_a_refused_cross_site_login_does_not_count_as_a_failed_login(api: Api):
    for _ in range(6):  # more than the throttle allows for wrong passwords
        assert await post_login(api, {"Sec-Fetch-Site": "cross-site"}, password="wrong!") == 403
    with api.engine.connect() as connection:
        failed = connection.execute(
            sa.select(users.c.failed_logins).where(users.c.name == "operator")
        ).scalar()
    assert failed == 0
    assert await post_login(api, {}) == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, scripts
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1"},  # the console
        {"Sec-Fetch-Site": "same-origin", "Origin": "null"},  # the same, Referrer-Policy
        {"Origin": "http://127.0.0.1:80"},
        {"Origin": "HTTP://127.0.0.1"},
        {"Sec-Fetch-Site": "none"},  # typed or bookmarked: no page asked
    ],
)
async def test_a_login_from_the_site_itself_or_no_browser_page_logs_in(
    api: Api, headers: dict[str, str]
):
    assert await post_login(api, headers) == 200
    assert SESSION_COOKIE in api.client.cookies


async def test_the_access_token_login_is_not_affected(api: Api):
    # A token in a JSON answer is no use to a page that cannot read the answer.
    answer = await api.client.post(
        "/api/v1/auth/token",
        data={"username": "operator", "password": PASSWORD},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("headers", "scheme", "cross"),
    [
        ({"host": "gw.example", "origin": "https://gw.example"}, "https", False),
        ({"host": "gw.example:443", "origin": "https://gw.example"}, "https", False),
        ({"host": "gw.example", "origin": "http://gw.example"}, "https", True),
        ({"host": "[::1]:8000", "origin": "http://[::1]:8000"}, "http", False),
        ({"host": "[::1]:8000", "origin": "http://[::1]:8001"}, "http", True),
        ({"host": "127.0.0.1:8000", "origin": "http://localhost:8000"}, "http", True),
        ({"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:99999"}, "http", True),
        ({"host": "127.0.0.1:8000", "sec-fetch-site": "same-site"}, "http", False),
    ],
)
def test_cross_site_reason(headers: dict[str, str], scheme: str, cross: bool):
    assert (cross_site_reason(headers, scheme) is not None) is cross
