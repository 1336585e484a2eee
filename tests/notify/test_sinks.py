"""Notification sinks against real servers on 127.0.0.1 (aiosmtpd, an HTTP server) and a real
database (both backends): what arrives, signed how, escalated when, and what is journaled
when the mail server is down."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from datetime import timedelta
from hashlib import sha256
from typing import Any

import jsonschema
import pytest
from sqlalchemy.engine import Engine

from pstg.notify.document import schema
from tests.notify.servers import HttpServer, Mailbox, free_tcp_port, start_smtp
from tests.notify.station import running
from tests.notify.support import T0, Clock, eventually

SECRET = "webhook-secret-for-tests"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    controller, mailbox = start_smtp()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


@pytest.fixture
def http() -> Iterator[HttpServer]:
    with HttpServer() as server:
        yield server


def email(port: int) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, "security": "none",
            "sender": "PSTG ps-01 <pstg@localhost>", "timeout": "5s"}  # fmt: skip


PEOPLE: list[dict[str, Any]] = [
    {"name": "alice", "email": "alice@localhost", "phone": "+1 555 0100",
     "via": ["email", "ops-json", "sms"]},
    {"name": "bob", "email": "bob@localhost"},
]  # fmt: skip
ROUTE = {"name": "urgent", "priorities": ["critical", "high"],
         "levels": [{"to": ["alice"]}, {"after": "15m", "to": ["bob"]}]}  # fmt: skip


def hooks(url: str) -> list[dict[str, Any]]:
    return [
        {"name": "ops-json", "url": f"{url}/pstg", "secret": SECRET},
        {"name": "sms", "url": f"{url}/sms", "template": "sms", "secret": SECRET},
    ]


async def test_a_high_alarm_mails_station_tag_value_priority_and_link(engine: Engine, smtp) -> None:
    port, mailbox = smtp
    section = {
        "email": email(port),
        "people": PEOPLE[1:],
        "routes": [{"name": "r", "levels": [{"to": ["bob"]}]}],
    }
    async with running(engine, section) as station:
        await station.values("wet_well.level", 2.9, 3.25)
        await eventually(lambda: len(mailbox.to("bob@localhost")) == 1)
    mail = mailbox.to("bob@localhost")[0]
    assert mail["From"] == "PSTG ps-01 <pstg@localhost>"
    assert mail["Subject"] == "[Pump Station 1 (ps-01)] ALARM HIGH: Wet well level high = 3.25 m"
    body = mail.get_content()
    for line in ("Station:  Pump Station 1 (ps-01)", "Tag:      wet_well.level",
                 "Value:    3.25 m", "Priority: high",
                 "Console: http://127.0.0.1:8000/?alarm=wet_well.level.high"):  # fmt: skip
        assert line in body
    rows = station.journal()
    assert [(r["channel"], r["recipient"], r["kind"], r["result"], r["attempt"]) for r in rows] == [
        ("email", "bob", "raised", "delivered", 1)
    ]
    assert rows[0]["alarm_id"] == "wet_well.level.high"


async def test_webhooks_are_signed_and_follow_the_schema(engine: Engine, http: HttpServer) -> None:
    section = {"webhooks": hooks(http.url), "people": [PEOPLE[0] | {"via": ["ops-json", "sms"]}],
               "routes": [ROUTE]}  # fmt: skip
    async with running(engine, section) as station:
        await station.values("wet_well.level", 3.4)
        await eventually(lambda: len(http.hooks.received()) == 2)
    by_path = {request.path: request for request in http.hooks.received()}
    for request in by_path.values():
        timestamp = request.headers["X-PSTG-Timestamp"]
        expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, sha256)
        assert request.headers["X-PSTG-Signature"] == f"sha256={expected.hexdigest()}"
        assert abs(int(timestamp) - T0.timestamp()) < 5  # the clock's time: a replay is stale
    document = json.loads(by_path["/pstg"].body)
    jsonschema.validate(document, schema(), format_checker=jsonschema.FormatChecker())
    assert document["alarm"]["id"] == "wet_well.level.high"
    assert document["alarm"]["value"] == 3.4
    assert document["station"] == {"id": "ps-01", "name": "Pump Station 1"}
    assert document["recipient"]["name"] == "alice"
    sms = json.loads(by_path["/sms"].body)
    assert sms["to"] == "+1 555 0100"
    assert sms["text"] == "ps-01 ALARM high: Wet well level high (wet_well.level = 3.4 m)"


async def test_the_second_level_hears_after_the_delay_unless_acknowledged(
    engine: Engine, smtp
) -> None:
    port, mailbox = smtp
    section = {"email": email(port), "people": PEOPLE, "routes": [ROUTE]}
    people = [PEOPLE[0] | {"via": ["email"]}, PEOPLE[1]]
    section["people"] = people
    async with running(engine, section) as station:
        await station.values("wet_well.level", 3.4)
        await eventually(lambda: len(mailbox.to("alice@localhost")) == 1)
        station.clock.advance(minutes=14)
        station.tick()
        station.clock.advance(minutes=1, seconds=1)
        station.tick()
        await eventually(lambda: len(mailbox.to("bob@localhost")) == 1)
        assert "ALARM (escalated)" in mailbox.to("bob@localhost")[0]["Subject"]

        # The next one is acknowledged in time: bob never hears of it, alice hears of the ack.
        await station.values("wet_well.level", 2.0)
        await station.acknowledge("wet_well.level.high")
        await station.values("wet_well.level", 3.5)
        await eventually(lambda: len(mailbox.to("alice@localhost")) >= 4)
        await station.acknowledge("wet_well.level.high")
        station.clock.advance(minutes=30)
        station.tick()
        await eventually(lambda: len(mailbox.to("alice@localhost")) == 5)
        for sink in station.sinks:
            await sink.deliverer.drain(10)
    subjects = [m["Subject"].split("] ")[1].split(":")[0] for m in mailbox.to("alice@localhost")]
    assert subjects == [
        "ALARM HIGH",
        "Cleared HIGH",
        "Acknowledged HIGH",
        "ALARM HIGH",
        "Acknowledged HIGH",
    ]
    assert len(mailbox.to("bob@localhost")) == 3  # the escalation, then the ack and clear of it


async def test_a_restart_resumes_the_escalation_and_tells_nobody_twice(
    engine: Engine, smtp
) -> None:
    port, mailbox = smtp
    section = {"email": email(port), "people": [PEOPLE[0] | {"via": ["email"]}, PEOPLE[1]],
               "routes": [ROUTE]}  # fmt: skip
    clock = Clock()
    async with running(engine, section, clock=clock) as station:
        await station.values("wet_well.level", 3.4)
        await eventually(lambda: len(mailbox.to("alice@localhost")) == 1)
        for sink in station.sinks:
            await sink.deliverer.drain(10)
    # Down for 20 minutes, across the 15 minutes after which bob is called.
    clock.advance(minutes=20)
    async with running(engine, section, clock=clock) as station:
        await eventually(lambda: len(mailbox.to("bob@localhost")) == 1)
        assert "ALARM (escalated)" in mailbox.to("bob@localhost")[0]["Subject"]
        await station.acknowledge("wet_well.level.high")
        await eventually(lambda: len(mailbox.to("bob@localhost")) == 2)
        await eventually(lambda: len(mailbox.to("alice@localhost")) == 2)
        # A delivery is journaled after the server took it: wait for the fourth row.
        await eventually(lambda: len(station.journal()) >= 4)
        kinds = [(row["recipient"], row["kind"]) for row in station.journal()]
    assert kinds == [
        ("alice", "raised"),
        ("bob", "escalated"),
        ("alice", "acknowledged"),
        ("bob", "acknowledged"),
    ]


async def test_a_flood_sends_digests_not_fifty_mails(engine: Engine, smtp) -> None:
    port, mailbox = smtp
    section = {"email": email(port), "people": PEOPLE[1:],
               "routes": [{"name": "all", "levels": [{"to": ["bob"]}]}]}  # fmt: skip
    async with running(engine, section, alarms=50) as station:
        await station.values("wet_well.level", 3.4)
        for n in range(1, 50):
            await station.values(f"t{n}", 2.0)
        await eventually(lambda: len(mailbox.to("bob@localhost")) == 10)
        station.clock.advance(minutes=5)
        station.tick()
        await eventually(lambda: len(mailbox.to("bob@localhost")) == 11)
    digest = mailbox.to("bob@localhost")[-1]
    assert "ALARM FLOOD: 40 alarm(s)" in digest["Subject"]
    assert digest.get_content().count("\n- ") == 40
    assert len(station.journal(kind="digest")) == 1


async def test_smtp_down_retries_then_raises_notification_failed_to_the_second_channel(
    engine: Engine, http: HttpServer
) -> None:
    dead_port = free_tcp_port()  # nothing listens: connection refused
    section = {
        "email": email(dead_port),
        "webhooks": hooks(http.url),
        "people": [PEOPLE[0] | {"via": ["email"]},
                   {"name": "carol", "phone": "+1 555 0199", "via": ["sms"]}],
        "routes": [ROUTE],
        "retry": {"attempts": 3, "first": "10ms", "max": "50ms"},
        "failure_alarm": {"to": ["carol"]},
    }  # fmt: skip
    async with running(engine, section) as station:
        await station.values("wet_well.level", 3.4)
        sink = station.sink("notify.email")
        await eventually(lambda: sink.deliverer.failed == 1)
        await station.alarms.flush()  # notification_failed's transition, then its event
        failed = station.alarms.engine.get("notification_failed")
        assert failed.active
        assert failed.state.value == "unacknowledged"
        assert str(failed.value).startswith("email:alice: SMTPConnectError")
        await eventually(lambda: any(r.path == "/sms" for r in http.hooks.received()))
    # (the notification_failed alarm itself goes to alice by e-mail too, and fails as well)
    attempts = station.journal(channel="email", alarm_id="wet_well.level.high")
    assert [(r["attempt"], r["result"]) for r in attempts] == [
        (1, "retrying"),
        (2, "retrying"),
        (3, "failed"),
    ]
    assert all(r["error"] for r in attempts)
    sms = json.loads(next(r for r in http.hooks.received() if r.path == "/sms").body)
    assert sms["to"] == "+1 555 0199"
    assert sms["alarms"] == ["notification_failed"]
    # No alarm lost: the level alarm is raised and journaled whatever the mail server does.
    assert station.alarms.engine.get("wet_well.level.high").state.value == "unacknowledged"
    from pstg.alarms.service import journal as alarm_journal

    steps = alarm_journal(
        engine, station.alarms.station_id, start=T0 - timedelta(days=1), end=T0 + timedelta(days=1)
    )
    assert {row["alarm_id"] for row in steps} >= {"wet_well.level.high", "notification_failed"}


async def test_a_full_queue_is_journaled_as_dropped(engine: Engine) -> None:
    dead_port = free_tcp_port()
    section = {"email": email(dead_port), "people": PEOPLE[1:], "queue_size": 1,
               "routes": [{"name": "all", "levels": [{"to": ["bob"]}]}],
               "retry": {"attempts": 2, "first": "1s"}}  # fmt: skip
    async with running(engine, section, alarms=4) as station:
        for n in range(1, 4):
            await station.values(f"t{n}", 2.0)
        sink = station.sink("notify.email")
        await eventually(lambda: sink.deliverer.dropped >= 1)
        await eventually(lambda: len(station.journal(result="dropped")) >= 1)
    dropped = station.journal(result="dropped")
    assert "queue is full" in dropped[0]["error"]


async def test_the_self_test_runs_on_schedule_and_records_each_route(engine: Engine, smtp) -> None:
    port, mailbox = smtp
    clock = Clock(T0.replace(hour=11, minute=59))  # 05:59 in Chicago (CST)
    section = {
        "email": email(port),
        "people": [*PEOPLE[1:], {"name": "carol", "email": "carol@localhost"}],
        "routes": [ROUTE | {"levels": [{"to": ["bob"]}]},
                   {"name": "night", "levels": [{"to": ["carol"]}]}],
        "self_test": {"at": "06:00", "time_zone": "America/Chicago"},
    }  # fmt: skip
    async with running(engine, section, clock=clock) as station:
        station.tick()
        assert mailbox.messages == []
        clock.advance(minutes=1)
        station.tick()
        await eventually(lambda: len(mailbox.messages) == 2)
        await eventually(
            lambda: len([e for e in station.events if e.kind.value == "notification"]) == 2
        )
        clock.advance(minutes=1)
        station.tick()  # once a day, not once a tick
    assert len(mailbox.messages) == 2
    assert all("SELF-TEST" in m["Subject"] for m in mailbox.messages)
    rows = station.journal(kind="self_test")
    assert sorted((r["route"], r["recipient"], r["result"]) for r in rows) == [
        ("night", "carol", "delivered"),
        ("urgent", "bob", "delivered"),
    ]
    results = [e.attributes or {} for e in station.events if e.kind.value == "notification"]
    verdicts = sorted(f"{result['route']}:{result['self_test']}" for result in results)
    assert verdicts == ["night:delivered", "urgent:delivered"]
