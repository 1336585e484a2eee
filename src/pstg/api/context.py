"""What the API reads, handed to `create_app` by the service (or by tests)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from pstg.config.models import StationConfig
from pstg.config.tag_table import TagTable
from pstg.model import utc_now
from pstg.sinks.live import LiveCache

if TYPE_CHECKING:
    from pstg.alarms.service import AlarmService
    from pstg.auth.service import AuthService
    from pstg.commands.service import CommandService
    from pstg.metrics import Metrics
    from pstg.poller.stats import DeviceStats
    from pstg.sinks.notify import NotificationSink
    from pstg.storage.writer import WriterStats


def _no_devices() -> Mapping[str, DeviceStats]:
    return {}


def _no_writer() -> WriterStats | None:
    return None


@dataclass
class ApiContext:
    engine: Engine
    """The station's database (migrated)."""
    config: StationConfig
    station_id: int
    tag_ids: Mapping[str, int]
    """Active tags of this station by name (retired ones are readable through the database)."""
    auth: AuthService
    metrics: Metrics
    live: LiveCache = field(default=None)  # type: ignore[assignment]  # see __post_init__
    """The latest reading of every tag; an empty one for the config when not given."""
    device_stats: Callable[[], Mapping[str, DeviceStats]] = _no_devices
    """The poller's statistics per device id; empty when nothing polls (tests, tools)."""
    writer_stats: Callable[[], WriterStats | None] = _no_writer
    started_at: datetime = field(default_factory=utc_now)
    alarms: AlarmService | None = None
    """The alarm engine of the running service; None when nothing evaluates alarms."""
    commands: CommandService | None = None
    """Select-before-operate of the running service; None when nothing writes (tools)."""
    notifications: Sequence[NotificationSink] = ()
    """The notification sinks of the running service (one per kind of channel)."""

    def __post_init__(self) -> None:
        if self.live is None:
            self.live = LiveCache(TagTable.from_config(self.config))

    @property
    def tags(self) -> TagTable:
        """The station's tags by number (the live view's table)."""
        return self.live.tags
