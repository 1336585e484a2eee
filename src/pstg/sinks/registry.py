"""The sinks of a running gateway, in one list: the only place a new output is added.

Order matters: sinks start in this order and close in reverse, so storage starts first and
closes last (it journals what the others report while closing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pstg.alarms.service import AlarmService
from pstg.config.models import StationConfig
from pstg.config.tag_table import TagTable
from pstg.sinks.alarms import AlarmSink
from pstg.sinks.base import EmitEvent, Sink
from pstg.sinks.live import LiveCache
from pstg.sinks.log import LogSink
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


SinkFactory = Callable[[SinkContext], Sink | None]


def _storage(context: SinkContext) -> Sink | None:
    if context.storage is None:
        return None
    return StorageSink(context.storage, context.tags, context.emit)


def _alarms(context: SinkContext) -> Sink | None:
    if context.alarms is None:
        return None
    return AlarmSink(context.alarms, context.tags, context.emit)


def _live(context: SinkContext) -> Sink | None:
    return context.live


def _log(context: SinkContext) -> Sink | None:
    return LogSink(context.tags, samples=context.log_samples)


SINKS: tuple[tuple[str, SinkFactory], ...] = (
    ("storage", _storage),
    ("alarms", _alarms),
    ("live", _live),
    ("log", _log),
)


def build_sinks(context: SinkContext) -> list[Sink]:
    """The sinks that apply to `context`, in start order."""
    return [sink for _, factory in SINKS if (sink := factory(context)) is not None]
