"""The gateway process: collector, writer, live cache and API, started and stopped in order.

Start-up: database (schema check, catalog sync) -> writer -> live cache warmed from the last
stored samples -> poller -> consumers -> HTTP API. Shutdown runs backwards: the API stops
taking requests, the poller stops, what it produced last is handed to the writer, and the
writer flushes everything before the process exits. `pstg run` and `pstg demo` both use it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from pstg.alarms.engine import AlarmEngine
from pstg.alarms.service import AlarmService
from pstg.api.app import create_app
from pstg.api.context import ApiContext
from pstg.auth.secret import load_or_create_secret
from pstg.auth.service import AuthService
from pstg.batch import Batch
from pstg.config.models import StationConfig
from pstg.live import LiveCache
from pstg.metrics import Metrics
from pstg.model import Event, EventKind, Sample, utc_now
from pstg.poller.output import PollOutput
from pstg.poller.service import Poller
from pstg.storage.exception import ReportByException
from pstg.storage.queries import latest
from pstg.storage.service import Storage, open_storage

log = logging.getLogger("pstg.gateway")


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside our process: the gateway owns SIGINT/SIGTERM, not uvicorn."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Gateway:
    config: StationConfig
    config_path: Path
    serve_api: bool = True
    on_samples: Callable[[Sequence[Sample]], None] | None = None
    """Called with every batch the poller produces (the CLI logs them)."""
    on_event: Callable[[Event], None] | None = None
    live: LiveCache = field(default_factory=LiveCache)
    storage: Storage | None = None
    poller: Poller | None = None
    context: ApiContext | None = None
    _output: PollOutput = field(default_factory=PollOutput)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _server: _EmbeddedServer | None = None
    _tag_index: dict[str, int] = field(default_factory=dict)
    _report: ReportByException | None = None
    alarms: AlarmService | None = None

    @property
    def url(self) -> str:
        api = self.config.api
        return f"http://{api.host}:{api.port}"

    def open(self) -> Storage:
        """The blocking part of the start: connect, check the schema, sync the catalog.
        Raises SchemaOutOfDate, DatabaseUrlError or SQLAlchemy's OperationalError."""
        self.storage = open_storage(self.config, self.config_path)
        return self.storage

    async def start(self) -> None:
        storage = self.storage if self.storage is not None else await asyncio.to_thread(self.open)
        await storage.start()
        tags = len(storage.catalog.tag_ids)
        self._event(EventKind.CONFIG_LOADED, str(self.config_path),
                    f"{len(self.config.devices)} device(s), {tags} tag(s), "
                    f"{len(self.config.alarms)} alarm(s)")  # fmt: skip
        self._event(EventKind.SERVICE_STARTED, "gateway", f"PSTG {_version()} started")
        self.alarms = AlarmService(
            storage.engine, storage.catalog.station_id, AlarmEngine(self.config)
        )
        restored = await asyncio.to_thread(self.alarms.load)
        if restored:
            log.info("alarm states restored: %d", restored)
        await self.alarms.start()
        ids = storage.catalog.tag_ids
        names = {tag_id: name for name, tag_id in ids.items()}
        stored = await asyncio.to_thread(latest, storage.engine, list(ids.values()))
        self.live.update(
            Sample(names[tag_id], point.ts, point.value, point.quality, point.reason)
            for tag_id, point in stored.items()
        )
        self.poller = Poller(self.config, self._output)
        await self.poller.start()
        self._tasks = [
            asyncio.create_task(self._consume_samples(), name="samples consumer"),
            asyncio.create_task(self._consume_events(), name="events consumer"),
        ]
        if self.serve_api:
            await self._start_api(storage)

    async def _start_api(self, storage: Storage) -> None:
        poller = self.poller
        assert poller is not None
        secret = await asyncio.to_thread(load_or_create_secret, storage.engine)
        writer = storage.writer
        self.context = ApiContext(
            engine=storage.engine,
            config=self.config,
            station_id=storage.catalog.station_id,
            tag_ids=storage.catalog.tag_ids,
            auth=AuthService(storage.engine, secret=secret),
            metrics=Metrics(lambda: poller.stats, lambda: writer.stats),
            live=self.live,
            device_stats=lambda: poller.stats,
            writer_stats=lambda: writer.stats,
            alarms=self.alarms,
        )
        api = self.config.api
        server = _EmbeddedServer(
            uvicorn.Config(
                create_app(self.context),
                host=api.host,
                port=api.port,
                log_level="warning",
                lifespan="off",
                access_log=False,
            )
        )
        task = asyncio.create_task(server.serve(), name="api server")
        while not server.started:
            if task.done():
                # uvicorn logs the reason (port in use...) and exits the task; say it plainly.
                task.result()
                raise OSError(f"the API could not listen on {api.host}:{api.port}")
            await asyncio.sleep(0.02)
        self._server = server
        self._tasks.append(task)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.should_exit = True
        poller, self.poller = self.poller, None
        if poller is not None:
            await poller.stop()
        for task in self._tasks:
            if task.get_name() != "api server":
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._drain()
        if self.alarms is not None:
            await self.alarms.close()
        if self.storage is not None:
            self._event(EventKind.SERVICE_STOPPED, "gateway", "stopped")
            await self.storage.close()

    async def _consume_samples(self) -> None:
        while True:
            self._handle(await self._output.samples.get())

    async def _consume_events(self) -> None:
        while True:
            self._handle_event(await self._output.events.get())

    def _handle(self, batch: Sequence[Sample]) -> None:
        assert self.storage is not None
        self.live.update(batch)
        # Until the pipeline (issue 11) decides report by exception in pstg.processing and
        # hands batches over as columns, the writer (which stores every row) gets them here.
        if self._report is None:
            storage = self.config.storage
            deadbands = {t.name: t.deadband for d in self.config.devices for t in d.tags}
            self._report = ReportByException(heartbeat=storage.heartbeat, deadbands=deadbands)
            self._tag_index = {name: i for i, name in enumerate(self.storage.catalog.tag_ids)}
        admit = self._report.admit
        stored = [sample for sample in batch if admit(sample)]
        self.storage.writer.submit(Batch.from_samples(stored, self._tag_index))
        if self.alarms is not None:
            self.alarms.process(batch)
        if self.on_samples is not None:
            self.on_samples(batch)

    def _handle_event(self, event: Event) -> None:
        assert self.storage is not None
        self.storage.writer.submit_event(event)
        if self.on_event is not None:
            self.on_event(event)

    def _event(self, kind: EventKind, source: str, message: str) -> None:
        assert self.storage is not None
        self.storage.writer.submit_event(Event(utc_now(), kind, source, message))

    def _drain(self) -> None:
        """Hand over what the stopped poller produced last."""
        output = self._output
        while not output.samples.empty():
            self._handle(output.samples.get_nowait())
        while not output.events.empty():
            self._handle_event(output.events.get_nowait())


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pstg")
    except PackageNotFoundError:
        return "(development)"
