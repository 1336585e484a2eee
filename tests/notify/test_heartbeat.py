"""Signs of life: the HTTP heartbeat to a local server, the MQTT heartbeat and its last will on
the Mosquitto at 127.0.0.1:1883, and sd_notify datagrams to a socket standing in for systemd."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from pathlib import Path

import aiomqtt
import pytest

from pstg.config.notifications import HeartbeatConfig
from pstg.notify.heartbeat import Heartbeat
from pstg.service.systemd import Watchdog, notify
from tests.notify.servers import HttpServer
from tests.notify.support import eventually


async def test_the_http_heartbeat_beats_every_interval() -> None:
    with HttpServer() as server:
        config = HeartbeatConfig(url=f"{server.url}/ping/ps-01", interval=1)
        heartbeat = Heartbeat(config, "ps-01")
        await heartbeat.start()
        try:
            await eventually(lambda: len(server.hooks.received()) >= 2, seconds=30)
        finally:
            await heartbeat.stop()
    assert {r.path for r in server.hooks.received()} == {"/ping/ps-01"}
    assert heartbeat.beats >= 2


def mosquitto_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not mosquitto_up(), reason="no MQTT broker on 127.0.0.1:1883")
async def test_the_mqtt_heartbeat_is_retained_and_says_stopped_at_a_clean_stop() -> None:
    topic = f"pstg-test/{uuid.uuid4()}/alive"
    config = HeartbeatConfig.model_validate({"mqtt": {"topic": topic}, "interval": 1})
    heartbeat = Heartbeat(config, "ps-01", readings=lambda: 42)
    seen: list[dict[str, object]] = []
    async with aiomqtt.Client("127.0.0.1", 1883) as watcher:
        await watcher.subscribe(topic, qos=1)
        await heartbeat.start()

        async def collect() -> None:
            async for message in watcher.messages:
                assert isinstance(message.payload, bytes)
                seen.append(json.loads(message.payload))
                if seen[-1]["status"] == "stopped":
                    return

        collecting = asyncio.create_task(collect())
        await eventually(lambda: len(seen) >= 2, seconds=30)
        await heartbeat.stop()
        await asyncio.wait_for(collecting, 30)
        await watcher.publish(topic, b"", retain=True)  # leave the broker as it was
    assert seen[0] == seen[0] | {"station": "ps-01", "status": "alive", "readings": 42}
    assert seen[-1]["status"] == "stopped"


async def test_sd_notify_says_ready_watchdog_and_stopping(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "notify.sock"
    systemd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    systemd.bind(str(path))
    systemd.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # WatchdogSec=200ms: a ping every 100 ms
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    received: list[str] = []

    def drain() -> list[str]:
        while True:
            try:
                received.append(systemd.recv(256).decode())
            except BlockingIOError:
                return received

    try:
        watchdog = Watchdog()
        await watchdog.start()
        await eventually(lambda: drain().count("WATCHDOG=1") >= 2, seconds=30)
        await watchdog.stop()
        drain()
    finally:
        systemd.close()
    assert received[0] == "READY=1"
    assert received[-1] == "STOPPING=1"
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert notify("READY=1") is False  # outside systemd: nothing, quietly
