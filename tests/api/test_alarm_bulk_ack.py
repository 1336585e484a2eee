"""POST /api/v1/alarms/ack: an operator acknowledges a selection of alarms, or every alarm
waiting for it, on both databases; each is journaled and audited like a single one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.alarms.service import journal
from pstg.alarms.tables import alarm_journal
from pstg.api.app import create_app
from pstg.audit import list_entries, verify
from pstg.auth.roles import Role
from pstg.config.models import StationConfig
from pstg.model import Sample
from tests.api.conftest import STATION, Api, add_users, asgi_client, make_context

BULK_STATION = StationConfig.model_validate(
    STATION.model_dump(by_alias=True, exclude_unset=True)
    | {
        "alarms": [
            {"id": "pump1.on", "tag": "pump1.running", "kind": "discrete", "value": 1},
            {"id": "level.high", "tag": "wet_well.level", "kind": "high", "limit": 3},
            {"id": "outflow.high", "tag": "outflow", "kind": "high", "limit": 10},
            {"id": "outflow.low", "tag": "outflow", "kind": "low", "limit": 1},
        ]
    }
)
RAISED = ["pump1.on", "level.high", "outflow.high"]


@pytest.fixture
async def bulk_api(engine: Engine) -> AsyncIterator[Api]:
    context = make_context(engine, config=BULK_STATION)
    add_users(engine)
    app = create_app(context)
    async with asgi_client(app) as client:
        api = Api(engine, context, app, client)
        assert context.alarms is not None
        now = datetime.now(UTC)
        context.alarms.process(
            [
                Sample("pump1.running", now, 1.0),
                Sample("wet_well.level", now, 4.0),
                Sample("outflow", now, 20.0),
            ]
        )
        await context.alarms.flush()
        yield api


async def ack(api: Api, role: Role = Role.OPERATOR, **body: object) -> httpx.Response:
    return await api.client.post("/api/v1/alarms/ack", json=body, headers=await api.headers(role))


async def test_a_selection_is_acknowledged_and_the_rest_refused_with_reasons(
    bulk_api: Api,
) -> None:
    answer = await ack(
        bulk_api,
        ids=["pump1.on", "nope", "level.high", "pump1.on", "outflow.low"],
        comment="crew on the way",
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [(t["alarm_id"], t["state"], t["user"], t["comment"]) for t in body["acknowledged"]] == [
        ("pump1.on", "acknowledged", "operator", "crew on the way"),
        ("level.high", "acknowledged", "operator", "crew on the way"),
    ]
    assert body["refused"] == [
        {"id": "nope", "reason": "no alarm 'nope'"},
        {
            "id": "outflow.low",
            "reason": "alarm 'outflow.low' cannot be acknowledged: it is normal: "
            "there is nothing to acknowledge",
        },
    ]
    engine = bulk_api.context.alarms.engine  # type: ignore[union-attr]
    assert [engine.get(a).state.value for a in RAISED] == [
        "acknowledged",
        "acknowledged",
        "unacknowledged",
    ]
    # journaled and audited alarm by alarm, the refusals too
    rows = journal(bulk_api.engine, bulk_api.context.station_id, start=datetime(2000, 1, 1,
                   tzinfo=UTC), end=datetime.now(UTC))  # fmt: skip
    acked = {
        (r["alarm_id"], r["username"], r["comment"]) for r in rows if r["state"] == "acknowledged"
    }
    assert acked == {
        ("pump1.on", "operator", "crew on the way"),
        ("level.high", "operator", "crew on the way"),
    }
    audit = list_entries(bulk_api.engine, action="alarm.acknowledge")
    assert sorted((e.target, e.result) for e in audit) == [
        ("alarm:level.high", "ok"),
        ("alarm:nope", "failed"),
        ("alarm:outflow.low", "failed"),
        ("alarm:pump1.on", "ok"),
    ]
    done = next(e for e in audit if e.target == "alarm:pump1.on")
    assert done.new_value == {"state": "acknowledged", "comment": "crew on the way", "bulk": True}
    assert verify(bulk_api.engine).ok


async def test_all_acknowledges_every_alarm_waiting_and_nothing_else(bulk_api: Api) -> None:
    first = await ack(bulk_api, ids=["pump1.on"])
    assert first.status_code == 200
    answer = await ack(bulk_api, all=True, comment="seen")
    assert answer.status_code == 200, answer.text
    assert [t["alarm_id"] for t in answer.json()["acknowledged"]] == ["level.high", "outflow.high"]
    assert answer.json()["refused"] == []
    again = await ack(bulk_api, all=True)
    assert again.json() == {"acknowledged": [], "refused": []}
    with bulk_api.engine.connect() as connection:
        count = connection.execute(
            sa.select(sa.func.count()).where(alarm_journal.c.state == "acknowledged")
        ).scalar_one()
    assert count == 3


async def test_a_viewer_may_not_and_the_body_must_say_what(bulk_api: Api) -> None:
    assert (await ack(bulk_api, Role.VIEWER, all=True)).status_code == 403
    bodies: list[dict[str, Any]] = [
        {},
        {"all": True, "ids": ["pump1.on"]},
        {"ids": []},
        {"all": False},
    ]
    for body in bodies:
        answer = await ack(bulk_api, **body)
        assert answer.status_code == 422, (body, answer.text)
    engine = bulk_api.context.alarms.engine  # type: ignore[union-attr]
    assert all(engine.get(a).state.value == "unacknowledged" for a in RAISED)
