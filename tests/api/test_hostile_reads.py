"""Hostile reads (issue 10 item 1): the alarm KPI range is capped, reads have a time limit,
and polling keeps its schedule while such requests go on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.alarms.tables import alarm_journal
from pstg.api.app import create_app
from pstg.api.routers import alarms as alarms_router
from pstg.auth.roles import Role
from pstg.auth.users import add_user
from pstg.config.models import ApiConfig
from pstg.storage.rows import to_micros
from tests.api.conftest import (
    ALARM,
    PASSWORD,
    STATION,
    WAIT,
    Api,
    asgi_client,
    bearer,
    login,
    make_context,
)
from tests.support.modbus_server import ModbusTestServer
from tests.support.poll_schedule import (
    DEVICE,
    assert_kept_schedule,
    polling_gateway,
    read_counters,
    wait_until_polling,
    write_station,
)

YEAR_2024: dict[str, str | int] = {"from": "2024-01-01T00:00:00Z", "to": "2024-12-31T00:00:00Z"}
ALL_TIME: dict[str, str | int] = {"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59Z"}


def journal(api: Api, count: int, start: datetime = datetime(2024, 3, 1, tzinfo=UTC)) -> None:
    """`count` activations of the test alarm, each followed by its return to normal."""
    journal_into(api.engine, api.context.station_id, count, start)


def journal_into(
    engine: Engine, station_id: int, count: int, start: datetime = datetime(2024, 3, 1, tzinfo=UTC)
) -> None:
    """`count` transitions of the test alarm into the journal of `engine`'s station."""
    rows = []
    for n in range(count):
        ts = start + timedelta(seconds=n)
        raised = n % 2 == 0
        rows.append(
            {
                "ts": to_micros(ts),
                "station_id": station_id,
                "alarm_id": ALARM,
                "priority": "high",
                "previous": "normal" if raised else "unacknowledged",
                "state": "unacknowledged" if raised else "normal",
                "active": raised,
                "value": 1 if raised else 0,
                "username": None,
                "comment": None,
                "reason": "test",
                "message": "Pump 1 running",
            }
        )
    with engine.begin() as connection:
        connection.execute(sa.insert(alarm_journal), rows)


async def test_kpi_range_is_capped_with_a_clear_422(api: Api) -> None:
    journal(api, 6)
    two_years = {"from": "2022-01-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"}
    for span in (two_years, ALL_TIME):
        response = await api.get("/api/v1/alarms/kpi", **span)
        assert response.status_code == 422, response.text
        assert "the KPI range is at most 366 days" in response.json()["detail"]
    response = await api.get("/api/v1/alarms/kpi", **YEAR_2024)
    assert response.status_code == 200, response.text
    assert response.json()["activations"] == 3
    assert response.json()["top"] == [[ALARM, 3]]


async def test_kpi_refuses_more_transitions_than_it_reads(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alarms_router, "MAX_KPI_TRANSITIONS", 5)
    journal(api, 6)
    response = await api.get("/api/v1/alarms/kpi", **YEAR_2024)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("more than 5 alarm transitions in the range")


async def test_a_read_past_the_time_limit_answers_503(api: Api) -> None:
    journal(api, 20_000)  # far more than 10 ms of reading and computing
    config = STATION.model_copy(update={"api": ApiConfig(request_timeout=0.01)})
    app = create_app(make_context(api.engine, config=config))
    async with asgi_client(app) as client:
        headers = await api.headers()  # a token of the shared database works here too
        response = await client.get("/api/v1/alarms/kpi", params=YEAR_2024, headers=headers)
        assert response.status_code == 503
        assert response.json()["detail"].startswith(
            "the request took longer than 0.01 s (api.request_timeout)"
        )
        assert response.headers["retry-after"] == "30"
        assert response.headers["x-content-type-options"] == "nosniff"
        # The service goes on answering.
        assert (await client.get("/api/v1/health")).status_code in (200, 503)


HOSTILE: list[tuple[str, dict[str, str | int]]] = [
    ("/api/v1/alarms/kpi", {"from": "0001-01-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"}),
    ("/api/v1/alarms/kpi", YEAR_2024),
    ("/api/v1/alarms", {"state": "history", "limit": 10**9, **ALL_TIME}),
    ("/api/v1/series", {"tag": "outflow", "limit": 10**9, **ALL_TIME}),
    ("/api/v1/trends", {"tag": "outflow", "points": 5000, **ALL_TIME}),
    ("/api/v1/summary", {"tag": "outflow", **ALL_TIME}),
    ("/api/v1/events", {"limit": 10**9, **ALL_TIME}),
]
"""Reads that, before the fix, held the event loop for seconds (the first KPI one also grew
the process by 800 MB) or asked for everything there is."""
POLL_INTERVAL = 0.5
"""Twice as often as the seeded station. An overrun takes a cycle a whole interval late; in
this process (pytest's large heap) a full garbage collection or a busy shared machine alone
delays the loop by up to ~0.12 s, so shorter intervals would measure the machine."""
ATTACK = 6.0
"""Seconds of hostile reads: 12 ticks of the poller."""
ATTACKERS = 3
"""Clients sending hostile reads back to back at once."""
HOSTILE_STATION_TAGS = (
    "      - {name: outflow, source: input_register, address: 0}\n"
    "      - {name: pump1.running, source: coil, address: 0}\n"
)
HOSTILE_STATION_ALARMS = (
    "alarms:\n"
    f"  - {{id: {ALARM}, tag: pump1.running, kind: discrete, value: 1, priority: high,\n"
    "     message: Pump 1 running}\n"
)


async def test_polling_keeps_its_schedule_while_hostile_reads_go_on(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """A real gateway polls a Modbus server on 127.0.0.1 every 0.5 s in this event loop, which
    also serves its API (uvicorn on a loopback port), while three clients send hostile reads
    back to back for 6 s. The poller's own counters (GET /api/v1/devices) must show that no
    cycle overran and no tick was skipped during the attack, and that it polled about as
    often as its interval says."""
    add_user(engine, "viewer", PASSWORD, Role.VIEWER)
    async with ModbusTestServer() as server:
        path = write_station(
            tmp_path,
            server.port,
            database_url,
            interval=POLL_INTERVAL,
            tags=HOSTILE_STATION_TAGS,
            alarms=HOSTILE_STATION_ALARMS,
        )
        async with (
            polling_gateway(path) as gateway,
            httpx.AsyncClient(base_url=gateway.url, timeout=WAIT) as client,
        ):
            assert gateway.storage is not None
            journal_into(engine, gateway.storage.catalog.station_id, 200)
            headers = bearer(await login(client, "viewer"))
            await wait_until_polling(client, headers)
            statuses: list[int] = []
            loop = asyncio.get_running_loop()

            async def attacker(first: int) -> None:
                sent = first
                while loop.time() - started < ATTACK:
                    url, params = HOSTILE[sent % len(HOSTILE)]
                    answer = await client.get(url, params=params, headers=headers)
                    statuses.append(answer.status_code)
                    sent += 1

            before = await read_counters(client, headers, DEVICE)
            started = loop.time()
            await asyncio.gather(*(attacker(n * 2) for n in range(ATTACKERS)))
            after = await read_counters(client, headers, DEVICE)

    print(f"{len(statuses)} hostile reads; {assert_kept_schedule(before, after, POLL_INTERVAL)}")
    assert all(status < 500 for status in statuses), statuses
    assert len(statuses) >= len(HOSTILE)
    assert 422 in statuses  # the KPI over 2023 years is refused, not computed
