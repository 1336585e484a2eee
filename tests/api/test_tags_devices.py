"""/tags from the config and the live cache (never the database), /devices from the poller's
statistics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter

from pstg.api.schemas import TagOut
from pstg.auth.roles import Role
from pstg.drivers.errors import FailureKind
from pstg.model import Quality, QualityReason, Sample
from pstg.poller.stats import DeviceStats, LinkStatus
from tests.api.conftest import TAGS, Api

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)


@contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    """The SQL statements `engine` runs inside the block."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


async def test_tags_show_metadata_and_the_live_value(api: Api) -> None:
    api.context.live.update(
        [
            Sample("wet_well.level", T0, 2.25),
            Sample.bad("outflow", T0, QualityReason.TIMEOUT),
            Sample("plc2.status", T0, "AUTO", Quality.UNCERTAIN, QualityReason.STALE),
        ]
    )
    response = await api.get("/api/v1/tags")
    assert response.status_code == 200
    tags = {tag["name"]: tag for tag in response.json()}
    assert list(tags) == TAGS  # sorted by name
    assert tags["wet_well.level"] == {
        "name": "wet_well.level",
        "device": "plc1",
        "source": "holding_register",
        "address": 0,
        "type": "float32",
        "unit": "m",
        "description": "Wet well level",
        "range": [0.0, 5.0],
        "writable": False,
        "latest": {"value": 2.25, "quality": "good", "reason": "", "ts": "2024-03-01T12:00:00Z"},
    }
    assert tags["outflow"]["latest"] == {
        "value": None,
        "quality": "bad",
        "reason": "timeout",
        "ts": "2024-03-01T12:00:00Z",
    }
    assert tags["plc2.status"]["latest"]["value"] == "AUTO"
    assert tags["pump1.running"]["latest"] is None
    assert tags["pump1.running"]["type"] == "bool"
    assert tags["pump1.speed"]["writable"] is True


async def test_tags_never_query_the_database(api: Api) -> None:
    """Stored samples do not show; only the live cache does. The only statements a /tags
    request runs are the token check's, the same as for /auth/me."""
    api.store([Sample("outflow", T0, 7.0)])
    api.context.live.update([Sample("wet_well.level", T0, 1.5)])
    headers = await api.headers(Role.VIEWER)
    with statements(api.engine) as for_me:
        assert (await api.client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    with statements(api.engine) as for_tags:
        response = await api.client.get("/api/v1/tags", headers=headers)
    assert response.status_code == 200
    assert for_tags == for_me
    assert not any("samples" in statement or "FROM tags" in statement for statement in for_tags)
    latest = {tag["name"]: tag["latest"] for tag in response.json()}
    assert latest["outflow"] is None
    assert latest["wet_well.level"]["value"] == 1.5


async def test_tags_filters(api: Api) -> None:
    async def names(**params: str) -> list[str]:
        response = await api.get("/api/v1/tags", **params)
        assert response.status_code == 200
        return [tag["name"] for tag in response.json()]

    assert await names(device="plc2") == ["outflow", "plc2.status"]
    assert await names(device="nope") == []
    assert await names(q="PUMP") == ["pump1.running", "pump1.speed"]
    assert await names(q="rising main") == ["outflow"]  # matches the description
    assert await names(device="plc1", q="level") == ["wet_well.level"]


async def test_devices_with_and_without_statistics(api: Api) -> None:
    stats = DeviceStats("plc1", status=LinkStatus.DOWN, requests=12, responses=9)
    stats.errors[FailureKind.TIMEOUT] = 3
    stats.last_rtt = 0.0042
    stats.last_poll_at = T0
    stats.last_error = "no answer within 1 s"
    stats.last_error_kind = FailureKind.TIMEOUT
    stats.last_error_at = T0
    api.devices["plc1"] = stats
    response = await api.get("/api/v1/devices")
    assert response.status_code == 200
    plc1, plc2 = response.json()
    assert plc1["device_id"] == "plc1"
    assert plc1["driver"] == "modbus-tcp"
    assert plc1["address"] == "127.0.0.1:15020"
    assert plc1["unit_id"] == 1
    assert plc1["tags"] == 3
    assert plc1["enabled"] is True
    assert plc1["status"] == "down"
    assert (plc1["requests"], plc1["responses"]) == (12, 9)
    assert plc1["errors"] == {"timeout": 3}
    assert plc1["last_rtt_ms"] == 4.2
    assert plc1["last_poll_at"] == "2024-03-01T12:00:00Z"
    assert plc1["last_error_kind"] == "timeout"
    assert plc2["device_id"] == "plc2"
    assert plc2["status"] == "unknown"
    assert plc2["unit_id"] == 2
    assert plc2["last_poll_at"] is None


def tags_as_pydantic_writes_them(api: Api) -> bytes:
    """The answer as the router built it before it kept bytes: a dict per tag, validated and
    encoded by pydantic as FastAPI does with the response model."""
    live = api.context.live.snapshot()
    found = [
        {
            "name": tag.name, "device": device.id, "source": tag.source, "address": tag.address,
            "type": tag.data_type, "unit": tag.unit, "description": tag.description,
            "range": tag.range, "writable": tag.writable, "latest": live.get(tag.name),
        }
        for device in api.context.config.devices
        for tag in device.tags
    ]  # fmt: skip
    found.sort(key=lambda tag: str(tag["name"]))
    adapter = TypeAdapter(list[TagOut])
    return adapter.dump_json(adapter.validate_python(found, from_attributes=True))


async def test_tags_are_byte_for_byte_what_pydantic_writes(api: Api) -> None:
    """Kept as bytes and re-encoded per change, the answer stays the one pydantic wrote."""
    assert (await api.get("/api/v1/tags")).content == tags_as_pydantic_writes_them(api)
    readings = [
        ("wet_well.level", 1e-7, Quality.GOOD), ("wet_well.level", 1e16, Quality.GOOD),
        ("outflow", 0.1 + 0.2, Quality.UNCERTAIN), ("outflow", None, Quality.BAD),
        ("pump1.running", 1.0, Quality.GOOD), ("plc2.status", "Ölpumpe \"2\"\n", Quality.GOOD),
        ("pump1.speed", -0.0, Quality.GOOD), ("pump1.speed", 123456789.125, Quality.GOOD),
    ]  # fmt: skip
    for step, (tag, value, quality) in enumerate(readings):
        ts = T0 + timedelta(microseconds=step * 250_001)
        reason = QualityReason.NONE if quality is Quality.GOOD else QualityReason.TIMEOUT
        api.context.live.update([Sample(tag, ts, value, quality, reason)])
        for params in ({}, {"device": "plc1"}, {"q": "PUMP"}):
            answer = await api.get("/api/v1/tags", **params)
            assert answer.headers["content-type"] == "application/json"
            expected = json.loads(tags_as_pydantic_writes_them(api))
            if params:
                expected = [
                    row for row in expected
                    if row["device"] == params.get("device", row["device"])
                    and ("q" not in params or "pump" in (row["name"] + row["description"]).lower())
                ]  # fmt: skip
            assert answer.json() == expected
        assert (await api.get("/api/v1/tags")).content == tags_as_pydantic_writes_them(api)
