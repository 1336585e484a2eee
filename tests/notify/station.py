"""A station with notifications, on a real database, driven like the gateway drives it: alarm
steps from the alarm service's journal flushes into the notification sinks, whose deliveries
report back to the alarm service. Everything but polling and the API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from pstg.alarms.engine import AlarmEngine
from pstg.alarms.service import AlarmService
from pstg.audit import Actor
from pstg.config.models import StationConfig
from pstg.model import Event, Sample
from pstg.notify import journal
from pstg.sinks.notify import NotificationSink, NotifyContext, build_notification_sinks
from pstg.storage.catalog import sync_catalog
from tests.notify.support import Clock

OPS = Actor("ops", "operator", "access_token", "127.0.0.1")


def station_config(notifications: dict[str, Any], alarms: int = 1) -> StationConfig:
    """A station with the wet well level and `alarms` high alarms (the first on the level)."""
    tags = [{"name": "wet_well.level", "source": "holding_register", "address": 0, "unit": "m"}]
    tags += [
        {"name": f"t{n}", "source": "holding_register", "address": n} for n in range(1, alarms)
    ]
    rules = [{"tag": "wet_well.level", "kind": "high", "limit": 3.0, "priority": "high",
              "message": "Wet well level high"}]  # fmt: skip
    rules += [
        {"tag": f"t{n}", "kind": "high", "limit": 1, "priority": "high"} for n in range(1, alarms)
    ]
    return StationConfig.model_validate(
        {
            "station": {"id": "ps-01", "name": "Pump Station 1"},
            "api": {"host": "127.0.0.1", "port": 8000},
            "devices": [{"id": "plc1", "tags": tags}],
            "alarms": rules,
            "notifications": notifications,
        }
    )


@dataclass
class Station:
    config: StationConfig
    engine: Engine
    alarms: AlarmService
    sinks: list[NotificationSink]
    clock: Clock
    events: list[Event] = field(default_factory=list)

    def sink(self, name: str) -> NotificationSink:
        return next(sink for sink in self.sinks if sink.name == name)

    def emit(self, event: Event) -> None:
        self.events.append(event)
        for sink in self.sinks:
            sink.submit_events([event])

    def stored(self, events: Sequence[Event]) -> None:
        for event in events:
            self.emit(event)

    async def values(self, tag: str, *values: float) -> None:
        """Samples of `tag` at the clock's time, one per second, then the journal flush."""
        for value in values:
            self.alarms.process([Sample(tag, self.clock.now, value)])
            self.clock.advance(seconds=1)
        await self.alarms.flush()

    def tick(self) -> None:
        for sink in self.sinks:
            sink.tick()

    async def acknowledge(self, alarm_id: str) -> None:
        import asyncio

        await asyncio.to_thread(self.alarms.act, "acknowledge", alarm_id, OPS, "on my way")

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        station_id = self.alarms.station_id
        return list(reversed(journal.read(self.engine, station_id, **filters)))


@asynccontextmanager
async def running(
    engine: Engine, notifications: dict[str, Any], *, alarms: int = 1, clock: Clock | None = None
) -> AsyncIterator[Station]:
    config = station_config(notifications, alarms)
    catalog = sync_catalog(engine, config)
    service = AlarmService(engine, catalog.station_id, AlarmEngine(config))
    clock = clock or Clock()
    service.load(clock.now)  # as the gateway does: the states of a run before, if any
    station = Station(config, engine, service, [], clock)
    service.on_stored = station.stored
    context = NotifyContext(
        config=config, emit=station.emit, engine=engine, station_db_id=catalog.station_id,
        alarms=service, clock=clock, tick_interval=3600,  # the test ticks
    )  # fmt: skip
    station.sinks = build_notification_sinks(context)
    for sink in station.sinks:
        await sink.start()
    try:
        yield station
    finally:
        for sink in reversed(station.sinks):
            await sink.close()
        await service.flush()
