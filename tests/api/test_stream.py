"""GET /api/v1/stream over real HTTP (uvicorn on a loopback port: httpx's ASGI transport only
returns a response once the app is done with it, which a stream never is).

The live view is driven directly, as the poller would; alarms through the alarm service as the
pipeline feeds it; device states through the statistics the poller keeps. Waits are bounded
and generous; nothing here asserts a duration.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pstg.api.app import create_app
from pstg.api.stream.hub import StreamHub
from pstg.audit import cli_actor
from pstg.auth.roles import Role
from pstg.auth.users import add_user
from pstg.batch import Batch
from pstg.config.loader import load_config
from pstg.config.models import StationConfig
from pstg.model import Quality, QualityReason, RegisterTable, Sample
from pstg.poller.stats import DeviceStats, LinkStatus
from pstg.service.gateway import Gateway
from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade
from tests.api.conftest import (
    ALARM,
    PASSWORD,
    STATION,
    WAIT,
    Api,
    add_users,
    asgi_client,
    login,
    served,
)
from tests.api.conftest import make_context as make_api_context
from tests.support.modbus_server import ModbusTestServer


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the stream reads memory, not the database (login aside)."""
    return f"sqlite:///{tmp_path / 'pstg.db'}"


class Events:
    """The events of one open stream, parsed as a browser's EventSource does."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()
        self.retry: int | None = None
        self.comments: list[str] = []

    async def next(self) -> tuple[str, dict[str, Any]]:
        async with asyncio.timeout(WAIT):
            name, data = "message", ""
            async for line in self.lines:
                if line == "":
                    if data:
                        return name, json.loads(data)
                    continue
                field, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if field == "":
                    self.comments.append(value)
                elif field == "retry":
                    self.retry = int(value)
                elif field == "event":
                    name = value
                elif field == "data":
                    data += value
            raise AssertionError("the stream ended")

    async def until(self, name: str) -> Any:
        """The data of the next event called `name` (others before it are skipped)."""
        while True:
            seen, data = await self.next()
            if seen == name:
                return data


@asynccontextmanager
async def stream(base: str, headers: dict[str, str], **params: Any) -> AsyncIterator[Events]:
    async with (
        httpx.AsyncClient(base_url=base, timeout=WAIT) as client,
        client.stream("GET", "/api/v1/stream", headers=headers, params=params) as response,
    ):
        assert response.status_code == 200, await response.aread()
        yield Events(response)


def hub_of(api: Api) -> StreamHub:
    hub = api.app.state.streams
    assert isinstance(hub, StreamHub)
    return hub


async def test_a_snapshot_then_the_values_that_change(api: Api) -> None:
    now = datetime.now(UTC).replace(microsecond=250_000)
    api.context.live.update(
        [
            Sample("wet_well.level", now, 2.41),
            Sample("outflow", now, None, Quality.BAD, QualityReason.TIMEOUT),
            Sample("plc2.status", now, "AUTO"),
        ]
    )
    headers = await api.headers(Role.VIEWER)
    async with served(api.app) as base, stream(base, headers) as events:
        name, snapshot = await events.next()
        assert events.retry == 2000
        assert name == "snapshot"
        assert snapshot["tags"] == {
            "wet_well.level": {
                "value": 2.41, "quality": "good", "reason": "",
                "ts": now.isoformat().replace("+00:00", "Z"),
            },
            "outflow": {
                "value": None, "quality": "bad", "reason": "timeout",
                "ts": now.isoformat().replace("+00:00", "Z"),
            },
            "plc2.status": {
                "value": "AUTO", "quality": "good", "reason": "",
                "ts": now.isoformat().replace("+00:00", "Z"),
            },
        }  # fmt: skip
        assert snapshot["alarms"] == []
        assert snapshot["devices"] == {
            "plc1": {"state": "unknown", "last_error": None},
            "plc2": {"state": "unknown", "last_error": None},
        }
        assert snapshot["seq"] == api.context.live.seq

        later = now + timedelta(seconds=1)
        api.context.live.update([Sample("wet_well.level", later, 2.5)])
        values = await events.until("values")
        assert values["seq"] > snapshot["seq"]
        assert values["tags"] == {
            "wet_well.level": {
                "value": 2.5, "quality": "good", "reason": "",
                "ts": later.isoformat().replace("+00:00", "Z"),
            }
        }  # fmt: skip


async def test_the_stream_and_get_tags_agree(api: Api) -> None:
    now = datetime.now(UTC)
    api.context.live.update([Sample("wet_well.level", now, 1e-7), Sample("outflow", now, 1e16)])
    tags = {row["name"]: row["latest"] for row in (await api.get("/api/v1/tags")).json()}
    async with served(api.app) as base, stream(base, await api.headers()) as events:
        snapshot = await events.until("snapshot")
    assert snapshot["tags"] == {name: latest for name, latest in tags.items() if latest}


async def test_alarm_changes_are_pushed(api: Api) -> None:
    service = api.context.alarms
    assert service is not None
    async with served(api.app) as base, stream(base, await api.headers()) as events:
        assert (await events.until("snapshot"))["alarms"] == []
        service.process([Sample("pump1.running", datetime.now(UTC), 1.0)])
        alarms = await events.until("alarms")
        assert [(a["id"], a["state"], a["active"], a["acked"]) for a in alarms] == [
            (ALARM, "unacknowledged", True, False)
        ]
        listed = (await api.get("/api/v1/alarms", state="all")).json()["alarms"]
        assert alarms == listed

        service.process([Sample("pump1.running", datetime.now(UTC), 0.0)])
        alarms = await events.until("alarms")
        assert [(a["state"], a["active"]) for a in alarms] == [("returned_unacknowledged", False)]

        # An operator's action reaches the stream too (here a bulk acknowledgement).
        await asyncio.to_thread(service.acknowledge_many, None, cli_actor(), "seen")
        assert await events.until("alarms") == []


async def test_device_state_changes_are_pushed(api: Api) -> None:
    async with served(api.app) as base, stream(base, await api.headers()) as events:
        await events.until("snapshot")
        api.devices["plc1"] = DeviceStats("plc1", status=LinkStatus.UP)
        devices = await events.until("devices")
        assert devices == {
            "plc1": {"state": "connected", "last_error": None},
            "plc2": {"state": "unknown", "last_error": None},
        }
        api.devices["plc2"] = DeviceStats(
            "plc2", status=LinkStatus.DOWN, last_error="connection refused"
        )
        devices = await events.until("devices")
        assert devices["plc2"] == {"state": "disconnected", "last_error": "connection refused"}


async def test_a_tag_filter(api: Api) -> None:
    now = datetime.now(UTC)
    api.context.live.update([Sample("wet_well.level", now, 1.0), Sample("outflow", now, 2.0)])
    headers = await api.headers()
    async with served(api.app) as base:
        async with stream(base, headers, tag=["outflow", "pump1.speed"]) as events:
            assert list((await events.until("snapshot"))["tags"]) == ["outflow"]
            later = now + timedelta(seconds=1)
            api.context.live.update([Sample("wet_well.level", later, 1.5)])
            api.context.live.update([Sample("pump1.speed", later, 40.0)])
            assert list((await events.until("values"))["tags"]) == ["pump1.speed"]

        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=WAIT) as client:
            unknown = await client.get("/api/v1/stream", params={"tag": ["outflow", "nope"]})
            assert (unknown.status_code, unknown.json()) == (404, {"detail": "unknown tag 'nope'"})
            many = await client.get("/api/v1/stream", params={"tag": ["outflow"] * 501})
            assert many.status_code == 422
            assert "at most 500 tags" in many.json()["detail"]


async def test_the_stream_needs_a_viewer(api: Api) -> None:
    async with served(api.app) as base, httpx.AsyncClient(base_url=base) as client:
        refused = await client.get("/api/v1/stream")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        headers = await api.headers(Role.VIEWER)
        async with client.stream("GET", "/api/v1/stream", headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-store"


async def test_at_most_max_streams(engine: Any) -> None:
    config = STATION.model_copy(update={"api": STATION.api.model_copy(update={"max_streams": 2})})
    app = create_app(make_api_context(engine, config=config))
    add_users(engine)
    async with asgi_client(app) as local:
        headers = {"Authorization": f"Bearer {await login(local, 'viewer')}"}
    async with served(app) as base, stream(base, headers) as first, stream(base, headers):
        await first.until("snapshot")
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=WAIT) as client:
            third = await client.get("/api/v1/stream")
        assert third.status_code == 503
        assert "api.max_streams" in third.json()["detail"]
        assert third.headers["retry-after"] == "5"


def busy_station(tags: int) -> StationConfig:
    """One device with many tags: messages large enough to fill socket buffers."""
    return StationConfig.model_validate(
        {
            "station": {"id": "ps-busy"},
            "devices": [
                {
                    "id": "plc1",
                    "port": 15020,
                    "tags": [
                        {"name": f"tank{n:04d}.level_with_a_long_name",
                         "source": "holding_register", "address": n}
                        for n in range(tags)
                    ],
                }
            ],
        }
    )  # fmt: skip


async def test_a_client_that_does_not_read_costs_no_memory(engine: Any) -> None:
    """A client stops reading: its queue never grows past QUEUE_SIZE, its messages are dropped,
    and when it reads again it gets a fresh snapshot."""
    config = busy_station(2000)
    context = make_api_context(engine, config=config)
    app = create_app(context)
    hub: StreamHub = app.state.streams
    hub.VALUES_INTERVAL = 0.02  # many messages quickly
    add_users(engine)
    async with asgi_client(app) as local:
        token = await login(local, "viewer")
    names = context.live.tags.names
    async with served(app) as base:
        loop = asyncio.get_running_loop()
        host, port = base.removeprefix("http://").split(":")
        with socket.socket() as client:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            client.setblocking(False)
            await loop.sock_connect(client, (host, int(port)))
            await loop.sock_sendall(
                client,
                f"GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\n\r\n".encode(),
            )

            async def read_until_snapshot() -> None:
                seen = b""
                async with asyncio.timeout(WAIT * 2):
                    while b"event: snapshot" not in seen:
                        chunk = await loop.sock_recv(client, 65536)
                        assert chunk, "the stream ended"
                        seen = seen[-20:] + chunk

            await read_until_snapshot()
            (subscription,) = hub.subscriptions
            # Stop reading; change every tag again and again until the hub drops its messages.
            start = datetime.now(UTC)
            most = 0
            for step in range(1000):  # up to 1000 x 2000 changes, about 200 kB a message
                # Dropped once, it gets nothing more while it does not read: drops stays 1.
                if subscription.drops:
                    break
                ts = start + timedelta(milliseconds=step)
                batch = [Sample(name, ts, float(step)) for name in names]
                context.live.submit(Batch.from_samples(batch, context.live.tags.index_of, set()))
                await asyncio.sleep(hub.VALUES_INTERVAL)
                most = max(most, len(subscription._queue))
            assert subscription.drops == 1, "the client never fell behind"
            assert most <= hub.QUEUE_SIZE
            # Reading again: after what the socket buffers held, a fresh snapshot comes.
            await read_until_snapshot()
            assert subscription.drops == 1


async def read_to_the_end(events: Events) -> None:
    while True:
        await events.next()


def gateway_station(folder: Path, modbus_port: int, api_port: int) -> Path:
    path = folder / "station.yaml"
    path.write_text(
        "station: {id: ps-stream}\n"
        f"storage: {{url: 'sqlite:///{folder / 'pstg.db'}', spool: {folder / 'spool.db'}}}\n"
        f"api: {{port: {api_port}}}\n"
        "devices:\n"
        "  - id: plc1\n"
        f"    port: {modbus_port}\n"
        "    poll_interval: 200ms\n"
        "    tags:\n"
        "      - {name: level, source: holding_register, address: 0}\n"
    )
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_gateway_stops_promptly_with_streams_open(tmp_path: Path) -> None:
    """Polled values arrive on the streams of a real gateway; its stop ends them (uvicorn
    alone would wait for every open response), also one whose client reads nothing."""
    async with ModbusTestServer() as plc:
        path = gateway_station(tmp_path, plc.port, free_port())
        engine = create_engine(f"sqlite:///{tmp_path / 'pstg.db'}")
        upgrade(engine)
        add_user(engine, "viewer", PASSWORD, Role.VIEWER)
        engine.dispose()
        gateway = Gateway(load_config(path), path)
        await gateway.start()
        stopped = False
        try:
            base = gateway.url
            async with httpx.AsyncClient(base_url=base, timeout=WAIT) as client:
                token = await login(client, "viewer")
            headers = {"Authorization": f"Bearer {token}"}
            async with (
                stream(base, headers) as first,
                stream(base, headers) as second,
                stream(base, headers, tag="level"),  # opened, never read
            ):
                await first.until("snapshot")
                await second.until("snapshot")
                await plc.set_values(1, RegisterTable.HOLDING_REGISTER, 0, [1234])
                while True:
                    values = (await first.until("values"))["tags"]
                    if values.get("level", {}).get("value") == 1234.0:
                        break
                await asyncio.wait_for(gateway.stop(), WAIT)
                stopped = True
                with pytest.raises(AssertionError, match="the stream ended"):
                    await read_to_the_end(second)
        finally:
            if not stopped:
                await gateway.stop()
