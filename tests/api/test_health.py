"""/health: 200 when the database answers and not every device is down, 503 otherwise."""

from __future__ import annotations

import dataclasses
import shutil
import socket
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from pstg.api.app import create_app
from pstg.auth.roles import Role
from pstg.auth.service import AuthService
from pstg.drivers.errors import FailureKind
from pstg.poller.stats import DeviceStats, LinkStatus
from pstg.storage.database import create_engine
from pstg.storage.writer import WriterStats
from tests.api.conftest import SECRET, Api, asgi_client

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)


async def test_healthy_without_a_token(api: Api) -> None:
    response = await api.client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["error"] is None
    assert body["database"]["latency_ms"] >= 0
    assert [device["id"] for device in body["devices"]] == ["plc1", "plc2"]
    assert body["devices"][0]["status"] == "unknown"
    assert body["writer"] is None
    assert body["uptime_s"] >= 0


async def test_one_device_down_is_degraded(api: Api) -> None:
    api.devices["plc1"] = DeviceStats(
        "plc1",
        status=LinkStatus.DOWN,
        last_poll_at=T0,
        last_error="connection refused",
        last_error_kind=FailureKind.CONNECT_FAILED,
    )
    api.devices["plc2"] = DeviceStats("plc2", status=LinkStatus.UP, last_success_at=T0)
    response = await api.client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["devices"][0] == {
        "id": "plc1",
        "status": "down",
        "last_poll_at": "2024-03-01T12:00:00Z",
        "last_success_at": None,
        "last_error": "connection refused",
        "last_error_kind": "connect_failed",
    }
    assert body["devices"][1]["status"] == "up"


async def test_every_device_down_is_503_and_says_down(api: Api) -> None:
    """The body and the status code agree: a 503 never says "degraded" (issue 10 item 16)."""
    for device_id in ["plc1", "plc2"]:
        api.devices[device_id] = DeviceStats(device_id, status=LinkStatus.DOWN)
    response = await api.client.get("/api/v1/health")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["database"]["ok"] is True


async def test_head_answers_like_get_without_a_body(api: Api) -> None:
    response = await api.client.head("/api/v1/health")
    assert response.status_code == 200
    assert response.content == b""
    for device_id in ["plc1", "plc2"]:
        api.devices[device_id] = DeviceStats(device_id, status=LinkStatus.DOWN)
    assert (await api.client.head("/api/v1/health")).status_code == 503


async def test_a_writer_buffering_to_disk_is_degraded(api: Api) -> None:
    api.writer.append(
        WriterStats(database_up=False, pending=42, spool_bytes=4096, spool_fill=0.25, dropped=1)
    )
    response = await api.client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["writer"] == {
        "database_up": False,
        "pending": 42,
        "spool_bytes": 4096,
        "spool_fill": 0.25,
        "dropped": 1,
    }


def broken_engine(working: sa.Engine, tmp_path: Path) -> sa.Engine:
    """The same kind of database, unreachable: a SQLite file in a folder that is gone, or a
    PostgreSQL port nothing listens on."""
    if working.dialect.name == "sqlite":
        folder = tmp_path / "gone"
        engine = create_engine(f"sqlite:///{folder / 'pstg.db'}")
        shutil.rmtree(folder)  # create_engine made the (private) database file
        return engine
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return create_engine(f"postgresql://pstg@127.0.0.1:{port}/pstg")


async def test_an_unreachable_database_is_503(api: Api, tmp_path: Path) -> None:
    engine = broken_engine(api.engine, tmp_path)
    headers = await api.headers(Role.ADMIN)  # logged in while the database was there
    auth = AuthService(engine, secret=SECRET)
    context = dataclasses.replace(api.context, engine=engine, auth=auth)
    async with asgi_client(create_app(context)) as client:
        response = await client.get("/api/v1/health")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "down"
        assert body["database"]["ok"] is False
        assert body["database"]["latency_ms"] is None
        assert body["database"]["error"]
        assert len(body["database"]["error"]) <= 200
        # Everything else that needs the database says so, without a 500.
        for path in ["/api/v1/tags", "/api/v1/series?tag=outflow", "/api/v1/events"]:
            response = await client.get(path, headers=headers)
            assert response.status_code == 503
            assert response.json() == {"detail": "database unavailable"}
    engine.dispose()
