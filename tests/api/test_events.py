"""/events: the journal, newest first, filtered by time, kind and source, capped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from pstg.api.routers.events import MAX_EVENTS_LIMIT
from pstg.auth.roles import Role
from pstg.storage.rows import to_micros
from pstg.storage.schema import events, stations
from tests.api.conftest import Api

T0 = datetime(2024, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)


def z(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def journal(api: Api) -> None:
    api.journal(
        (T0, "device_connected", "plc1", "plc1 connected"),
        (T0 + H, "device_disconnected", "plc1", "plc1: connection refused"),
        (T0 + 2 * H, "device_connected", "plc2", "plc2 connected"),
        (T0 + 3 * H, "device_connected", "plc1", "plc1 connected"),
    )


# Logging in to ask writes login events "now": the tests look at the journal of 2024 only.
BEFORE_NOW = z(T0 + 365 * 24 * H)


async def messages(api: Api, **params: object) -> list[str]:
    params.setdefault("to", BEFORE_NOW)
    response = await api.get("/api/v1/events", **params)
    assert response.status_code == 200, response.text
    return [f"{event['ts'][11:13]} {event['message']}" for event in response.json()["events"]]


async def test_events_newest_first(api: Api) -> None:
    journal(api)
    response = await api.get("/api/v1/events", to=BEFORE_NOW)
    body = response.json()
    assert body["limit"] == 1000
    first = body["events"][0]
    assert first["ts"] == "2024-03-01T03:00:00Z"
    assert first["kind"] == "device_connected"
    assert first["source"] == "plc1"
    assert first["attributes"] == {"n": "3"}
    assert isinstance(first["id"], int)
    assert await messages(api) == [
        "03 plc1 connected",
        "02 plc2 connected",
        "01 plc1: connection refused",
        "00 plc1 connected",
    ]


async def test_events_filters(api: Api) -> None:
    journal(api)
    assert await messages(api, kind="device_disconnected") == ["01 plc1: connection refused"]
    assert len(await messages(api, kind=["device_disconnected", "device_connected"])) == 4
    assert await messages(api, source="plc2") == ["02 plc2 connected"]
    assert await messages(api, source="plc1", kind="device_connected") == [
        "03 plc1 connected",
        "00 plc1 connected",
    ]
    window = {"from": z(T0 + H), "to": z(T0 + 3 * H)}  # to is exclusive
    assert await messages(api, **window) == ["02 plc2 connected", "01 plc1: connection refused"]
    assert await messages(api, **{"from": z(T0 + 3 * H)}) == ["03 plc1 connected"]
    assert await messages(api, to=z(T0 + H)) == ["00 plc1 connected"]
    assert await messages(api, limit=2) == ["03 plc1 connected", "02 plc2 connected"]
    assert await messages(api, kind="nope") == []


async def test_events_limit_is_capped_and_bounds_checked(api: Api) -> None:
    body = (await api.get("/api/v1/events", limit=10**9)).json()
    assert body["limit"] == MAX_EVENTS_LIMIT
    cases: list[tuple[dict[str, object], str]] = [
        ({"limit": 0}, "query parameter 'limit': must be greater than or equal to 1"),
        ({"from": "now", "to": "now-1d"}, "from must be before to"),
        ({"kind": "a\x00b"}, "query parameter 'kind': must not contain NUL characters"),
        ({"source": "\x00"}, "query parameter 'source': must not contain NUL characters"),
        ({"kind": [f"k{n}" for n in range(51)]}, "query parameter 'kind': at most 50 kinds"),
    ]
    for params, detail in cases:
        response = await api.get("/api/v1/events", **params)
        assert response.status_code == 422
        assert response.json()["detail"].startswith(detail)


async def test_events_of_other_stations_are_left_out(api: Api) -> None:
    with api.engine.begin() as connection:
        other = connection.execute(
            sa.insert(stations).values(key="ps-02", created_at=0).returning(stations.c.id)
        ).scalar_one()
        rows = [
            (other, "theirs"),
            (None, "the system's"),
            (api.context.station_id, "ours"),
        ]
        connection.execute(
            sa.insert(events),
            [
                {
                    "ts": to_micros(T0 + n * H),
                    "station_id": station,
                    "kind": "service_started",
                    "source": "test",
                    "message": message,
                    "attributes": {},
                }
                for n, (station, message) in enumerate(rows)
            ],
        )
    assert await messages(api) == ["02 ours", "01 the system's"]


async def test_security_events_are_for_engineers_and_above(api: Api) -> None:
    """Issue 10 item 7: a failed login's typed name and client address are not for viewers."""
    journal(api)
    refused = await api.client.post(
        "/api/v1/auth/token", data={"username": "hunter2-typed-as-name", "password": "x"}
    )
    assert refused.status_code in (401, 429)
    for role in (Role.VIEWER, Role.OPERATOR):
        response = await api.get_as(role, "/api/v1/events", limit=10_000)
        assert response.status_code == 200, response.text
        seen = response.json()["events"]
        assert {event["kind"] for event in seen} == {"device_connected", "device_disconnected"}
        assert "hunter2" not in response.text
        # Asking for them by name does not help.
        asked = await api.get_as(role, "/api/v1/events", kind=["login_failed", "login_succeeded"])
        assert asked.json()["events"] == []
    for role in (Role.ENGINEER, Role.ADMIN):
        response = await api.get_as(role, "/api/v1/events", kind="login_failed")
        assert response.status_code == 200
        failed = response.json()["events"]
        assert [event["source"] for event in failed] == ["hunter2-typed-as-name"]
        assert failed[0]["attributes"]["source"] == "127.0.0.1"
        everything = await api.get_as(role, "/api/v1/events", limit=10_000)
        assert "login_succeeded" in {event["kind"] for event in everything.json()["events"]}
