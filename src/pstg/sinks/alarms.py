"""The alarm sink: readings of the watched tags into the alarm engine.

Only the rows of tags some rule watches become `Sample` objects (a boolean column by tag
index picks them), so a station of 100,000 tags with 50 alarms pays for 50.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import numpy as np

from pstg.alarms.service import AlarmService
from pstg.batch import Batch
from pstg.config.tag_table import TagTable
from pstg.model import Event
from pstg.sinks.base import EmitEvent, Feed


class AlarmSink:
    name = "alarms"
    feed = Feed.READINGS

    def __init__(self, service: AlarmService, tags: TagTable, emit: EmitEvent) -> None:
        self.service = service
        self.tags = tags
        self._emit = emit
        self._watched = np.zeros(len(tags), dtype=np.bool_)
        for name in service.engine.watched_tags():
            index = tags.get(name)
            if index is not None:
                self._watched[index] = True
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        service.on_stored = self._stored

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        await self.service.start()

    def submit(self, batch: Batch) -> None:
        watched = self._watched
        rows = watched[batch.tags]
        texts = tuple(text for text in batch.texts if watched[text.tag])
        if not rows.any() and not texts:
            return
        chosen = batch.select(rows).with_texts(texts)
        self.service.process(chosen.samples(self.tags.names))

    def submit_events(self, events: Sequence[Event]) -> None:
        pass

    async def flush(self) -> None:
        await self.service.flush()

    async def close(self) -> None:
        await self.service.close()

    def _stored(self, events: Sequence[Event]) -> None:
        # Operator actions are stored from a worker thread (the API's); the pipeline is the
        # event loop's, so hand the events over to it.
        if self._loop is None or threading.get_ident() == self._loop_thread:
            for event in events:
                self._emit(event)
        else:
            for event in events:
                self._loop.call_soon_threadsafe(self._emit, event)
