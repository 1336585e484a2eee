"""The sinks of a running gateway, in one list: the only place a new output is added.

Order matters: sinks start in this order and close in reverse, so storage starts first and
closes last (it journals what the others report while closing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pstg.alarms.service import AlarmService
from pstg.config.models import StationConfig
from pstg.config.tag_table import TagTable
from pstg.model import utc_now
from pstg.sinks.alarms import AlarmSink
from pstg.sinks.base import EmitEvent, Sink
from pstg.sinks.live import LiveCache
from pstg.sinks.log import LogSink
from pstg.sinks.notify import NotifyContext, build_notification_sinks
from pstg.sinks.storage import StorageSink
from pstg.storage.service import Storage


@dataclass(frozen=True)
class SinkContext:
    """What sink factories may use; a factory returns None when its sink does not apply."""

    config: StationConfig
    tags: TagTable
    live: LiveCache
    emit: EmitEvent
    """Report an event through the pipeline (to every sink)."""
    storage: Storage | None = None
    alarms: AlarmService | None = None
    log_samples: bool = False
    clock: Callable[[], datetime] = utc_now
    """The time notifications go by (escalation, digests, the self-test); tests set it."""


SinkFactory = Callable[[SinkContext], Sink | list[Sink] | None]
"""A sink, several of one kind (a notification sink per kind of channel), or None."""


def _storage(context: SinkContext) -> Sink | None:
    if context.storage is None:
        return None
    return StorageSink(context.storage, context.tags, context.emit)


def _alarms(context: SinkContext) -> Sink | None:
    if context.alarms is None:
        return None
    return AlarmSink(context.alarms, context.tags, context.emit)


def _notifications(context: SinkContext) -> list[Sink] | None:
    if context.config.notifications is None:
        return None
    storage = context.storage
    notify = NotifyContext(
        config=context.config,
        emit=context.emit,
        engine=storage.engine if storage is not None else None,
        station_db_id=storage.catalog.station_id if storage is not None else 0,
        alarms=context.alarms,
        clock=context.clock,
    )
    return list(build_notification_sinks(notify))


def _live(context: SinkContext) -> Sink | None:
    return context.live


def _log(context: SinkContext) -> Sink | None:
    return LogSink(context.tags, samples=context.log_samples)


SINKS: tuple[tuple[str, SinkFactory], ...] = (
    ("storage", _storage),
    ("alarms", _alarms),
    # After the alarms: they close first, so the last deliveries still reach the alarm service.
    ("notifications", _notifications),
    ("live", _live),
    ("log", _log),
)


def build_sinks(context: SinkContext) -> list[Sink]:
    """The sinks that apply to `context`, in start order."""
    sinks: list[Sink] = []
    for _, factory in SINKS:
        made = factory(context)
        if isinstance(made, list):
            sinks += made
        elif made is not None:
            sinks.append(made)
    return sinks
