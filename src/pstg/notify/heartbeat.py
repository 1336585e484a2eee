"""The gateway's sign of life, for a dead-man's switch outside it: silence is the alarm.

Every `interval` the heartbeat requests `url` (GET, as the common dead-man's-switch services
and a monitoring system's HTTP check take it) and/or publishes to an MQTT topic:

    {"station": "ps-01", "status": "alive", "ts": "...Z", "readings": 123456}

retained, so a watcher that subscribes later sees the last beat at once. The MQTT connection
carries a last will, `{"station": ..., "status": "dead"}` on the same topic: if the gateway
dies or its link drops, the broker itself publishes it. A clean stop publishes
`"status": "stopped"`. `readings` (polled so far) lets a watcher tell a gateway that is up but
no longer polling from one that works.

A beat that fails is logged (the first loudly, then quietly) and the next one tried on time:
the heartbeat never stops the gateway, and the watcher is the one to raise the alarm.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import aiomqtt
import httpx

from pstg.config.notifications import HeartbeatConfig, MqttHeartbeatConfig, resolve_secret
from pstg.model import utc_now
from pstg.times import format_instant

log = logging.getLogger("pstg.heartbeat")

STOP_SECONDS = 5.0
"""How long `Heartbeat.stop` tries before it gives up on a loop (and says so)."""


class Heartbeat:
    """See the module docstring. `readings` gives the count of readings polled so far."""

    def __init__(
        self, config: HeartbeatConfig, station_id: str, readings: Callable[[], int] = lambda: 0
    ) -> None:
        self.config = config
        self.station_id = station_id
        self._readings = readings
        self._task: asyncio.Task[None] | None = None
        self._mqtt_task: asyncio.Task[None] | None = None
        self._mqtt_client: aiomqtt.Client | None = None
        self._failing: set[str] = set()
        self._stopping = False
        self.beats = 0
        """Beats sent (HTTP answered 2xx, or MQTT published) so far."""

    async def start(self) -> None:
        if self.config.url is not None:
            self._task = asyncio.create_task(self._http_loop(self.config.url), name="heartbeat")
        if self.config.mqtt is not None:
            self._mqtt_task = asyncio.create_task(
                self._mqtt_loop(self.config.mqtt), name="heartbeat mqtt"
            )

    async def stop(self) -> None:
        """End the beats within about STOP_SECONDS. The loops also check a stop flag: a
        cancellation can be swallowed by `asyncio.wait_for` inside aiomqtt's publish on
        Python 3.11 (the same race as pymodbus's, docs/poller.md), so one cancel may not do."""
        self._stopping = True
        tasks = [task for task in (self._task, self._mqtt_task) if task is not None]
        self._task = self._mqtt_task = None
        deadline = asyncio.get_running_loop().time() + STOP_SECONDS
        while tasks and asyncio.get_running_loop().time() < deadline:
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks, timeout=0.5)
            tasks = [task for task in tasks if not task.done()]
        if tasks:
            log.warning("the heartbeat did not stop within %g s", STOP_SECONDS)

    def payload(self, status: str) -> dict[str, Any]:
        return {
            "station": self.station_id,
            "status": status,
            "ts": format_instant(utc_now()),
            "readings": self._readings(),
        }

    # --- HTTP ---------------------------------------------------------------------------------

    async def _http_loop(self, url: str) -> None:
        async with httpx.AsyncClient(timeout=self.config.timeout) as client:
            while not self._stopping:
                await self.beat_http(client, url)
                await asyncio.sleep(self.config.interval)

    async def beat_http(self, client: httpx.AsyncClient, url: str) -> bool:
        try:
            response = await client.get(url)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            self._failed("http", f"heartbeat to {url} failed: {exc}")
            return False
        self._ok("http")
        return True

    # --- MQTT ---------------------------------------------------------------------------------

    async def _mqtt_loop(self, config: MqttHeartbeatConfig) -> None:
        password = resolve_secret(config.password)
        dead = json.dumps({"station": self.station_id, "status": "dead"})
        will = aiomqtt.Will(config.topic, dead, qos=1, retain=True)
        while not self._stopping:
            try:
                async with aiomqtt.Client(
                    config.host, config.port, username=config.username,
                    password=password.reveal() if password is not None else None,
                    will=will, timeout=self.config.timeout,
                    identifier=f"pstg-{self.station_id}-heartbeat",
                ) as client:  # fmt: skip
                    try:
                        while not self._stopping:
                            await self._publish(client, config.topic, "alive")
                            await asyncio.sleep(self.config.interval)
                    except asyncio.CancelledError:
                        self._stopping = True
                        raise
                    finally:
                        if self._stopping:  # a clean stop says so (a lost link does not)
                            with contextlib.suppress(
                                aiomqtt.MqttError, TimeoutError, asyncio.CancelledError
                            ):
                                await asyncio.wait_for(
                                    self._publish(client, config.topic, "stopped"), 2.0
                                )
            except aiomqtt.MqttError as exc:
                self._failed("mqtt", f"heartbeat to mqtt://{config.host}:{config.port}: {exc}")
                await asyncio.sleep(self.config.interval)

    async def _publish(self, client: aiomqtt.Client, topic: str, status: str) -> None:
        body = json.dumps(self.payload(status))
        await client.publish(topic, body, qos=1, retain=True, timeout=self.config.timeout)
        self._ok("mqtt")

    # --- logging ------------------------------------------------------------------------------

    def _ok(self, what: str) -> None:
        self.beats += 1
        if what in self._failing:
            self._failing.discard(what)
            log.info("heartbeat (%s) sent again", what)

    def _failed(self, what: str, message: str) -> None:
        if what in self._failing:
            log.debug("%s", message)
        else:
            self._failing.add(what)
            log.warning("%s", message)
