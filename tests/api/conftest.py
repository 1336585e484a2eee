"""The API on a real database (both backends): a station catalog, users of every role, and an
httpx client talking to the app in-process over ASGI.

`api.headers(role)` logs in through POST /api/v1/auth/token once per role and returns the
Authorization header. Password hashing is made cheap here: argon2 with the production
parameters takes ~170 ms per hash and per login, and these tests log in hundreds of times.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from pstg.alarms.engine import AlarmEngine
from pstg.alarms.service import AlarmService
from pstg.api.app import create_app
from pstg.api.context import ApiContext
from pstg.auth import passwords
from pstg.auth.roles import Role
from pstg.auth.service import AuthService
from pstg.auth.users import add_user
from pstg.commands.service import CommandService
from pstg.config.models import StationConfig
from pstg.config.tag_table import TagTable
from pstg.metrics import Metrics
from pstg.model import Sample
from pstg.poller.stats import DeviceStats
from pstg.poller.writes import WriteOutcome, WriteStatus, WriteValue
from pstg.service.http_server import ApiServer
from pstg.sinks.live import LiveCache
from pstg.storage.catalog import sync_catalog
from pstg.storage.rows import to_micros, to_row
from pstg.storage.schema import events
from pstg.storage.store import SampleStore
from pstg.storage.writer import WriterStats

SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"
BASE_URL = "http://127.0.0.1"

STATION = StationConfig.model_validate(
    {
        "station": {"id": "ps-01", "name": "Pump Station 1"},
        "storage": {"heartbeat": 60},
        "devices": [
            {
                "id": "plc1",
                "port": 15020,
                "tags": [
                    {
                        "name": "wet_well.level",
                        "source": "holding_register",
                        "address": 0,
                        "type": "float32",
                        "unit": "m",
                        "description": "Wet well level",
                        "range": [0, 5],
                    },
                    {
                        "name": "pump1.running",
                        "source": "coil",
                        "address": 0,
                        "description": "Pump 1 running",
                    },
                    {
                        "name": "pump1.speed",
                        "source": "holding_register",
                        "address": 10,
                        "unit": "%",
                        "writable": True,
                        # Anyone may command it, in one step: the role matrix reaches the
                        # command endpoints with every caller (tests/commands test the rest).
                        "command": {"mode": "direct", "role": "viewer", "max": 100},
                    },
                ],
            },
            {
                "id": "plc2",
                "port": 15021,
                "unit_id": 2,
                "tags": [
                    {
                        "name": "outflow",
                        "source": "input_register",
                        "address": 0,
                        "unit": "l/s",
                        "description": "Outflow to the rising main",
                    },
                    {
                        "name": "plc2.status",
                        "source": "holding_register",
                        "address": 20,
                        "type": "string",
                        "length": 4,
                    },
                ],
            },
        ],
        "alarms": [
            {
                "id": "pump1.on",
                "tag": "pump1.running",
                "kind": "discrete",
                "value": 1,
                "priority": "high",
                "message": "Pump 1 running",
            },
        ],
    }
)
ALARM = "pump1.on"
"""The one alarm of the test station: active while pump1.running is 1."""
TAGS = sorted(tag.name for device in STATION.devices for tag in device.tags)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@dataclass
class Api:
    """One app on one database, with what the tests poke at."""

    engine: Engine
    context: ApiContext
    app: FastAPI
    client: httpx.AsyncClient
    devices: dict[str, DeviceStats] = field(default_factory=dict)
    """What the poller would report; fill by hand."""
    writer: list[WriterStats] = field(default_factory=list)
    """Empty: no writer in this process; [stats]: the writer's statistics."""
    _headers: dict[Role, dict[str, str]] = field(default_factory=dict)

    def tag_id(self, name: str) -> int:
        return self.context.tag_ids[name]

    async def headers(self, role: Role = Role.VIEWER) -> dict[str, str]:
        """Authorization for the user named after `role`, logged in once."""
        if role not in self._headers:
            self._headers[role] = bearer(await login(self.client, role.label))
        return self._headers[role]

    async def get(self, url: str, /, **params: Any) -> httpx.Response:
        """GET as a viewer."""
        return await self.get_as(Role.VIEWER, url, **params)

    async def get_as(self, role: Role, url: str, /, **params: Any) -> httpx.Response:
        return await self.client.get(url, params=params, headers=await self.headers(role))

    def store(self, samples: Iterable[Sample]) -> None:
        SampleStore(self.engine).write([to_row(s, self.tag_id(s.tag)) for s in samples])

    def journal(self, *entries: tuple[datetime, str, str, str]) -> None:
        """Events as (ts, kind, source, message)."""
        with self.engine.begin() as connection:
            connection.execute(
                sa.insert(events),
                [
                    {
                        "ts": to_micros(ts),
                        "station_id": self.context.station_id,
                        "kind": kind,
                        "source": source,
                        "message": message,
                        "attributes": {"n": str(n)},
                    }
                    for n, (ts, kind, source, message) in enumerate(entries)
                ],
            )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


def make_context(
    engine: Engine,
    *,
    devices: Mapping[str, DeviceStats] | None = None,
    writer: list[WriterStats] | None = None,
    auth: AuthService | None = None,
    config: StationConfig = STATION,
) -> ApiContext:
    """A context as the service builds it (the catalog synced, the live cache empty)."""
    catalog = sync_catalog(engine, config)
    device_map = devices if devices is not None else {}
    writer_list = writer if writer is not None else []

    def device_stats() -> Mapping[str, DeviceStats]:
        return device_map

    def writer_stats() -> WriterStats | None:
        return writer_list[0] if writer_list else None

    return ApiContext(
        engine=engine,
        config=config,
        station_id=catalog.station_id,
        tag_ids=catalog.tag_ids,
        auth=auth or AuthService(engine, secret=SECRET),
        metrics=Metrics(device_stats, writer_stats),
        device_stats=device_stats,
        writer_stats=writer_stats,
        started_at=datetime.now(UTC),
        alarms=AlarmService(engine, catalog.station_id, AlarmEngine(config)),
        commands=CommandService(
            engine,
            catalog.station_id,
            config,
            LiveCache(TagTable.from_config(config)),
            no_device,
        ),
    )


async def no_device(tag: str, value: WriteValue, **_: Any) -> WriteOutcome:
    """The write of the API tests, which run no poller: nothing answers (a link down)."""
    return WriteOutcome(tag, "plc1", value, WriteStatus.FAILED, message="no device in this test")


def add_users(engine: Engine) -> None:
    """A user of each role, named after it ("viewer", ..., "admin")."""
    for role in Role:
        add_user(engine, role.label, PASSWORD, role)


def asgi_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)


WAIT = 30.0
"""Seconds a test waits at most for what should come at once (a stream's next event)."""


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """`app` behind the service's own HTTP server on a free loopback port; its base URL. For
    streams: httpx's ASGI transport returns a response only once the app is done with it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    server = ApiServer(app, listener)
    await server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await asyncio.wait_for(server.stop(), WAIT)


@pytest.fixture
async def api(engine: Engine) -> AsyncIterator[Api]:
    devices: dict[str, DeviceStats] = {}
    writer: list[WriterStats] = []
    context = make_context(engine, devices=devices, writer=writer)
    add_users(engine)
    app = create_app(context)
    async with asgi_client(app) as client:
        yield Api(engine, context, app, client, devices, writer)
