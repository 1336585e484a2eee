"""The storage sink: what report by exception keeps, and the events, into the database.

The writer (pstg.storage.writer) batches, writes off the event loop, spools to disk while the
database is away, and flushes everything at close.
"""

from __future__ import annotations

from collections.abc import Sequence

from pstg.batch import Batch
from pstg.config.tag_table import TagTable
from pstg.model import Event
from pstg.sinks.base import EmitEvent, Feed
from pstg.storage.service import Storage


class StorageSink:
    name = "storage"
    feed = Feed.CHANGES

    def __init__(self, storage: Storage, tags: TagTable, emit: EmitEvent) -> None:
        self.storage = storage
        self.tags = tags
        storage.writer.announce = emit

    async def start(self) -> None:
        await self.storage.start()

    def submit(self, batch: Batch) -> None:
        self.storage.writer.submit(batch)

    def submit_events(self, events: Sequence[Event]) -> None:
        writer = self.storage.writer
        for event in events:
            if not event.journaled:
                writer.submit_event(event)

    async def flush(self) -> None:
        await self.storage.writer.flush()

    async def close(self) -> None:
        await self.storage.close()
