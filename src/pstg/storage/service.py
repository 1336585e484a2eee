"""Storage for the running service: open the database, check its schema, sync the catalog,
and run the writer plus periodic maintenance (partitions ahead, retention)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import URL, Engine

from pstg.config.models import StationConfig
from pstg.model import utc_now
from pstg.storage.catalog import Catalog, sync_catalog
from pstg.storage.database import create_engine, database_url, describe
from pstg.storage.migrate import check_current
from pstg.storage.retention import apply_retention
from pstg.storage.rows import to_micros
from pstg.storage.spool import Spool
from pstg.storage.writer import SampleWriter

log = logging.getLogger("pstg.storage")

MAINTENANCE_INTERVAL = 3600.0
PARTITION_DAYS_AHEAD = 3


@dataclass
class Storage:
    url: URL
    engine: Engine
    catalog: Catalog
    writer: SampleWriter
    config: StationConfig
    _maintenance: asyncio.Task[None] | None = None

    @property
    def where(self) -> str:
        return describe(self.url)

    async def start(self) -> None:
        await self.writer.start()
        self._maintenance = asyncio.create_task(self._maintain(), name="storage maintenance")

    async def close(self) -> None:
        task, self._maintenance = self._maintenance, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.writer.close()
        self.engine.dispose()

    async def _maintain(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.maintain_once)
            except Exception as exc:
                log.warning("storage maintenance failed: %s", exc)
            await asyncio.sleep(MAINTENANCE_INTERVAL)

    def maintain_once(self) -> None:
        """Create the coming days' partitions (PostgreSQL) and apply retention."""
        store = self.writer.store
        if not store.sqlite:
            today = utc_now()
            store.ensure_partitions(
                to_micros(today + timedelta(days=n)) for n in range(PARTITION_DAYS_AHEAD + 1)
            )
        keep = self.config.storage.retention
        apply_retention(
            self.engine,
            raw=keep.raw,
            minute=keep.minute,
            ten_minute=keep.ten_minute,
            hour=keep.hour,
        )


def open_storage(config: StationConfig, config_path: Path) -> Storage:
    """Connect, refuse an out-of-date schema (SchemaOutOfDate), sync the catalog, build the
    writer. Blocking: call it before the event loop's real work starts, or in a thread."""
    url = database_url(config, config_path)
    engine = create_engine(url)
    try:
        check_current(engine, describe(url))
        catalog = sync_catalog(engine, config)
    except BaseException:
        engine.dispose()
        raise
    settings = config.storage
    spool_path = Path(settings.spool).expanduser()
    if not spool_path.is_absolute():
        spool_path = config_path.parent / spool_path
    writer = SampleWriter(
        engine,
        station_id=catalog.station_id,
        tag_ids=catalog.ids,
        spool=Spool(spool_path, max_bytes=settings.spool_max_mb * 1024 * 1024),
        flush_interval=settings.flush_interval,
        batch_size=settings.batch_size,
        max_pending_rows=settings.max_pending_rows,
    )
    return Storage(url, engine, catalog, writer, config)
