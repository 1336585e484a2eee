"""Refused requests leave a trace (issue 10, item 9): forged and expired tokens (401), roles
too low (403) and refused alarm actions (409) are audited and logged, rate-limited per kind
and source so that a flood cannot fill the audit log."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy.engine import Engine

from pstg.audit import Actor, AuditEntry, list_entries, verify
from pstg.audit.refusals import PER_MINUTE, SUMMARY_ACTION, RefusalAudit
from pstg.auth.service import AuthService
from tests.api.conftest import ALARM, SECRET, Api, bearer, login

SOURCE = "127.0.0.1"


def refusals(engine: Engine) -> list[tuple[str, str, str, str, str, str]]:
    return [
        (e.actor, e.via, e.source, e.action, e.target, e.result)
        for e in list_entries(engine, limit=10_000)
        if e.action != "login"
    ]


async def test_refusals_are_audited(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    forged = jwt.encode({"sub": "admin", "uid": 1}, "not the key" * 4, algorithm="HS256")
    assert (await api.client.get("/api/v1/tags", headers=bearer(forged))).status_code == 401
    past = AuthService(api.engine, secret=SECRET, clock=lambda: datetime.now(UTC) - timedelta(1))
    expired, _ = past.issue_access_token(past.login("operator", "correct horse battery"))
    assert (await api.client.get("/api/v1/tags", headers=bearer(expired))).status_code == 401
    unknown = bearer("pstg_" + "x" * 43)
    assert (await api.client.get("/api/v1/tags", headers=unknown)).status_code == 401
    assert (await api.client.get("/api/v1/tags")).status_code == 401  # no token: not recorded
    viewer = bearer(await login(api.client, "viewer"))
    assert (await api.client.get("/api/v1/config", headers=viewer)).status_code == 403
    operator = bearer(await login(api.client, "operator"))
    ack = await api.client.post(f"/api/v1/alarms/{ALARM}/ack", headers=operator, json={})
    assert ack.status_code == 409, ack.text

    assert refusals(api.engine) == [
        ("(unknown)", "access_token", SOURCE, "token.refused", "GET /api/v1/tags", "denied"),
        ("operator", "access_token", SOURCE, "token.refused", "GET /api/v1/tags", "denied"),
        ("(unknown)", "api_token", SOURCE, "token.refused", "GET /api/v1/tags", "denied"),
        ("viewer", "access_token", SOURCE, "role.refused", "GET /api/v1/config", "denied"),
        ("operator", "access_token", SOURCE, "alarm.acknowledge", f"alarm:{ALARM}", "failed"),
    ]
    details = [e.detail for e in list_entries(api.engine) if e.action != "login"]
    assert details[0] == "invalid access token"
    assert details[1].startswith("access token expired")
    assert details[3] == "needs the role engineer; the caller is viewer"
    assert details[4] == ack.json()["detail"]
    logged = [r.getMessage() for r in caplog.records if r.name == "pstg.audit"]
    assert sum("refused (token)" in line for line in logged) == 3
    assert any("refused (alarm)" in line for line in logged)
    assert verify(api.engine).ok


async def test_a_role_refusal_is_logged_naming_who_what_and_why(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    viewer = bearer(await login(api.client, "viewer"))
    operator = bearer(await login(api.client, "operator"))
    assert (await api.client.get("/api/v1/config", headers=viewer)).status_code == 403
    assert (await api.client.get("/api/v1/users", headers=operator)).status_code == 403
    assert (await api.client.get("/api/v1/tags", headers=viewer)).status_code == 200

    logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "pstg.audit"]
    assert [entry for entry in logged if "refused" in entry[1]] == [
        (
            "WARNING",
            "refused (role): role.refused GET /api/v1/config by 'viewer' from 127.0.0.1: "
            "needs the role engineer; the caller is viewer",
        ),
        (
            "WARNING",
            "refused (role): role.refused GET /api/v1/users by 'operator' from 127.0.0.1: "
            "needs the role admin; the caller is operator",
        ),
    ]


async def test_a_flood_of_forged_tokens_is_recorded_up_to_the_limit(api: Api) -> None:
    forged = bearer(jwt.encode({"sub": "x"}, "not the key" * 4, algorithm="HS256"))
    for _ in range(3 * PER_MINUTE):
        assert (await api.client.get("/api/v1/tags", headers=forged)).status_code == 401
    assert len(refusals(api.engine)) == PER_MINUTE


def entry(source: str = SOURCE) -> AuditEntry:
    return AuditEntry(
        Actor("(unknown)", None, "access_token", source), "token.refused", "GET /x",
        result="denied", detail="invalid access token",
    )  # fmt: skip


def test_the_next_window_starts_with_a_summary(engine: Engine) -> None:
    audit = RefusalAudit(engine, per_minute=3)
    start = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    written = [audit.record("token", entry(), now=start + timedelta(seconds=n)) for n in range(10)]
    assert written == [True] * 3 + [False] * 7
    assert audit.record("token", entry("127.0.2.9"), now=start + timedelta(seconds=11))
    later = start + timedelta(seconds=61)
    assert audit.record("token", entry(), now=later)
    found = [(e.action, e.target, e.source, e.new_value) for e in list_entries(engine)]
    assert found == [
        ("token.refused", "GET /x", SOURCE, None),
        ("token.refused", "GET /x", SOURCE, None),
        ("token.refused", "GET /x", SOURCE, None),
        ("token.refused", "GET /x", "127.0.2.9", None),
        (SUMMARY_ACTION, "token", SOURCE, {"refused": 7}),
        ("token.refused", "GET /x", SOURCE, None),
    ]
    summary = list_entries(engine, action=SUMMARY_ACTION)[0]
    assert summary.detail == (
        "7 more refused (token) from 127.0.0.1 between 2026-03-02T06:00:00Z and "
        "2026-03-02T06:01:00Z, not recorded one by one"
    )
    for n in range(5):
        audit.record("token", entry(), now=later + timedelta(seconds=n))
    assert audit.flush(later + timedelta(seconds=10)) == 1  # at a clean stop
    assert list_entries(engine, action=SUMMARY_ACTION)[-1].new_value == {"refused": 3}


def test_the_counted_sources_are_bounded(engine: Engine) -> None:
    audit = RefusalAudit(engine, per_minute=1, max_keys=5)
    now = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    written = [audit.record("role", entry(f"127.0.2.{n}"), now=now) for n in range(50)]
    assert sum(written) == 6  # five sources, then one row for all the others
    assert len(audit._windows) == 6


def test_a_refusal_that_cannot_be_audited_is_still_refused(engine: Engine) -> None:
    from pstg.audit.tables import audit_log

    with engine.begin() as connection:
        audit_log.drop(connection)
    assert RefusalAudit(engine).record("token", entry()) is False
