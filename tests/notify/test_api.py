"""The notification endpoints on both databases: the journal with its filters (operators),
a test notification through the running sinks (engineers, audited), and /config keeping the
notification secrets hidden."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from pstg.api.app import create_app
from pstg.api.context import ApiContext
from pstg.audit.tables import audit_log
from pstg.auth import passwords
from pstg.auth.roles import Role
from pstg.config.models import StationConfig
from pstg.model import utc_now
from pstg.notify import journal
from pstg.notify.journal import Attempt, Result
from pstg.sinks.notify import NotifyContext, build_notification_sinks
from tests.api.conftest import STATION, add_users, asgi_client, bearer, login, make_context
from tests.notify.servers import Mailbox, start_smtp


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    controller, mailbox = start_smtp()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


def with_notifications(port: int, **extra: Any) -> StationConfig:
    raw = STATION.model_dump(mode="json", exclude_unset=True)
    raw["notifications"] = {
        "email": {"host": "127.0.0.1", "port": port, "security": "none",
                  "sender": "pstg@localhost"},
        "people": [{"name": "alice", "email": "alice@localhost"}],
        "routes": [{"name": "all", "levels": [{"to": ["alice"]}]}],
        **extra,
    }  # fmt: skip
    return StationConfig.model_validate(raw)


@pytest.fixture
async def served(
    engine: Engine, smtp
) -> AsyncIterator[tuple[ApiContext, httpx.AsyncClient, Mailbox]]:
    port, mailbox = smtp
    config = with_notifications(port)
    context = make_context(engine, config=config)
    sinks = build_notification_sinks(
        NotifyContext(config=config, emit=lambda event: None, engine=engine,
                      station_db_id=context.station_id, alarms=context.alarms)
    )  # fmt: skip
    for sink in sinks:
        await sink.start()
    context.notifications = sinks
    add_users(engine)
    async with asgi_client(create_app(context)) as client:
        yield context, client, mailbox
    for sink in sinks:
        await sink.close()


async def as_role(client: httpx.AsyncClient, role: Role) -> dict[str, str]:
    return bearer(await login(client, role.label))


def attempt(n: int, **changes: Any) -> Attempt:
    base = Attempt(
        ts=utc_now() - timedelta(minutes=10 - n), notification_id=f"id-{n}", channel="email",
        recipient="alice", kind="raised", alarm_id="wet_well.level.high",
        alarms=["wet_well.level.high"], route="all", level=1, attempt=1,
        result=Result.DELIVERED, error=None, detail="OK",
    )  # fmt: skip
    return replace(base, **changes)


async def test_the_journal_lists_attempts_newest_first_with_filters(served) -> None:
    context, client, _ = served
    journal.write(context.engine, context.station_id, [
        attempt(1, result=Result.RETRYING, error="SMTP 451: try later"),
        attempt(2),
        attempt(3, channel="sms", recipient="bob", alarm_id="pump1.on", alarms=["pump1.on"]),
    ])  # fmt: skip
    operator = await as_role(client, Role.OPERATOR)
    everything = (await client.get("/api/v1/notifications", headers=operator)).json()
    assert [a["notification_id"] for a in everything["attempts"]] == ["id-3", "id-2", "id-1"]
    first = everything["attempts"][2]
    assert first["result"] == "retrying"
    assert first["error"] == "SMTP 451: try later"
    assert first["ts"].endswith("Z")
    only = await client.get(
        "/api/v1/notifications", params={"alarm_id": "wet_well.level.high", "result": "delivered"},
        headers=operator,
    )  # fmt: skip
    assert [a["notification_id"] for a in only.json()["attempts"]] == ["id-2"]
    recent = await client.get(
        "/api/v1/notifications", params={"from": "now-9m", "limit": 2}, headers=operator
    )
    assert [a["notification_id"] for a in recent.json()["attempts"]] == ["id-3", "id-2"]
    viewer = await as_role(client, Role.VIEWER)
    assert (await client.get("/api/v1/notifications", headers=viewer)).status_code == 403
    bad = await client.get("/api/v1/notifications", params={"result": "lost"}, headers=operator)
    assert bad.status_code == 422


async def test_a_test_notification_is_sent_journaled_and_audited(served) -> None:
    context, client, mailbox = served
    engineer = await as_role(client, Role.ENGINEER)
    sent = await client.post(
        "/api/v1/notifications/test", json={"to": "alice", "comment": "new phone"},
        headers=engineer,
    )  # fmt: skip
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert body["delivered"] is True
    assert [(d["channel"], d["recipient"], d["delivered"]) for d in body["deliveries"]] == [
        ("email", "alice", True)
    ]
    assert len(mailbox.to("alice@localhost")) == 1
    assert "TEST" in mailbox.to("alice@localhost")[0]["Subject"]
    for sink in context.notifications:
        await sink.deliverer.close(drain=1)  # the journal rows are written
    rows = journal.read(context.engine, context.station_id, kind="test")
    assert [(r["recipient"], r["result"]) for r in rows] == [("alice", "delivered")]
    with context.engine.connect() as connection:
        audited = connection.execute(
            sa.select(audit_log.c.action, audit_log.c.target, audit_log.c.actor)
            .where(audit_log.c.action == "notify.test")
        ).all()  # fmt: skip
    assert [tuple(row) for row in audited] == [("notify.test", "notify:alice", "engineer")]
    operator = await as_role(client, Role.OPERATOR)
    refused = await client.post(
        "/api/v1/notifications/test", json={"to": "alice"}, headers=operator
    )
    assert refused.status_code == 403
    unknown = await client.post(
        "/api/v1/notifications/test", json={"to": "mallory"}, headers=engineer
    )
    assert unknown.status_code == 404
    assert "mallory" in unknown.json()["detail"]


async def test_config_hides_notification_secrets(engine: Engine, monkeypatch) -> None:
    config = with_notifications(
        2525,
        webhooks=[{"name": "sms", "url": "https://gw:pa55@127.0.0.1:9443/sms", "template": "sms",
                   "secret": "hmac-s3cret", "headers": {"Authorization": "Bearer tok3n"}}],
        heartbeat={"url": "http://127.0.0.1:9000/ping",
                   "mqtt": {"topic": "pstg/ps-01/alive", "username": "gw",
                            "password": {"env": "PSTG_MQTT_PASSWORD"}}},
    )  # fmt: skip
    assert config.notifications is not None
    assert config.notifications.email is not None
    config.notifications.email.username = "pstg"
    config.notifications.email.password = "smtp-s3cret"
    context = make_context(engine, config=config)
    add_users(engine)
    async with asgi_client(create_app(context)) as client:
        response = await client.get("/api/v1/config", headers=await as_role(client, Role.ENGINEER))
    assert response.status_code == 200
    for secret in ("pa55", "hmac-s3cret", "tok3n", "smtp-s3cret"):
        assert secret not in response.text
    section = response.json()["notifications"]
    assert section["email"]["password"] == "***"
    hook = section["webhooks"][0]
    assert (hook["secret"], hook["headers"], hook["url"]) == (
        "***",
        {"Authorization": "***"},
        "https://gw:***@127.0.0.1:9443/sms",
    )
    assert section["heartbeat"]["mqtt"]["password"] == {"env": "PSTG_MQTT_PASSWORD"}
