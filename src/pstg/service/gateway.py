"""The gateway: sources -> pipeline -> sinks, the API beside them, started and stopped in order.

    open()   (blocking)  instance lock -> the API's socket -> database (schema check, catalog)
    start()              alarm states restored -> live view warmed from the database ->
                         pipeline (storage, alarms, notifications, live, log sinks) -> gap
                         marker if the last run crashed -> sources (poll loops) -> commands ->
                         API -> heartbeat, systemd READY=1 and its watchdog
    stop()               systemd STOPPING=1, heartbeat -> API -> commands (open selections
                         expire) -> sources (bounded) -> end-of-data marker -> sinks closed in
                         reverse (notifications send what they hold; storage last: everything
                         flushed) -> lock released

`pstg run` and `pstg demo` both use it; tests run it in-process.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pstg.alarms.engine import AlarmEngine
from pstg.alarms.service import AlarmService
from pstg.batch import Batch
from pstg.config.models import StationConfig
from pstg.config.tag_table import DeviceTags, TagTable
from pstg.errors import Unavailable
from pstg.files import warn_if_readable
from pstg.model import Event, EventKind, QualityReason, Sample, utc_now
from pstg.pipeline import Pipeline
from pstg.poller.service import Poller
from pstg.poller.stats import DeviceStats
from pstg.poller.workers import WorkerPool, plan_workers, worker_count
from pstg.poller.writes import WriteOutcome, WriteValue
from pstg.processing.markers import not_read
from pstg.processing.report_by_exception import ReportByException
from pstg.service.api_socket import listen
from pstg.service.instance_lock import InstanceLock, acquire
from pstg.service.systemd import Watchdog
from pstg.sinks.live import LiveCache
from pstg.sinks.notify import NotificationSink
from pstg.sinks.registry import SinkContext, build_sinks
from pstg.storage.database import database_url
from pstg.storage.queries import latest
from pstg.storage.service import Storage, open_storage
from pstg.storage.writer_stats import WriterStats
from pstg.times import to_micros

if TYPE_CHECKING:
    from pstg.api.context import ApiContext
    from pstg.commands.model import CommandState, CommandValue
    from pstg.commands.service import CommandService
    from pstg.notify.heartbeat import Heartbeat
    from pstg.service.http_server import ApiServer

log = logging.getLogger("pstg.gateway")


class Gateway:
    """See the module docstring."""

    def __init__(
        self,
        config: StationConfig,
        config_path: Path,
        *,
        serve_api: bool = True,
        log_samples: bool = False,
        config_name: str | None = None,
        store: bool = True,
        api_port_setting: str | None = None,
    ) -> None:
        """`config_name`: the config file as the user named it, for messages. `store=False`
        polls and decodes only — no database, alarms or API (benchmarks, commissioning).
        `api_port_setting`: where the user chooses the API's port, named when it is taken
        (default: api.port in the config; `pstg demo` writes its config itself and takes
        --port instead)."""
        self.config = config
        self.config_path = config_path
        self.config_name = config_name or str(config_path)
        self.api_port_setting = api_port_setting or f"api.port in {self.config_name}"
        self.store = store
        self.serve_api = serve_api and store
        self.log_samples = log_samples
        self.tags = TagTable.from_config(config)
        self.report = ReportByException(
            heartbeat=config.storage.heartbeat, deadbands=self.tags.deadbands
        )
        self.live = LiveCache(self.tags)
        self.storage: Storage | None = None
        self.alarms: AlarmService | None = None
        self.pipeline: Pipeline | None = None
        self.source: Poller | WorkerPool | None = None
        """What polls: the poll loops in this process, or worker processes."""
        self.context: ApiContext | None = None
        self.commands: CommandService | None = None
        """Select-before-operate, served through the API (None without it)."""
        self._lock: InstanceLock | None = None
        self._socket: socket.socket | None = None
        self._api: ApiServer | None = None
        self._readings = 0
        self.notifications: list[NotificationSink] = []
        """The notification sinks (one per kind of channel); empty without notifications."""
        self.heartbeat: Heartbeat | None = None
        self._watchdog: Watchdog | None = None

    @property
    def url(self) -> str:
        api = self.config.api
        return f"http://{api.host}:{api.port}"

    # --- start ---------------------------------------------------------------------------

    def open(self) -> Storage | None:
        """The blocking part of the start: take the station's lock, open the API's socket,
        connect to the database, check the schema and sync the catalog.

        Raises InstanceLocked, ApiPortUnavailable, SchemaOutOfDate, DatabaseUrlError or
        SQLAlchemy's OperationalError; whatever was taken before the failure is released."""
        try:
            url = database_url(self.config, self.config_path)
            self._lock = acquire(url, self.config.station.id)
            if self.serve_api:
                api = self.config.api
                self._socket = listen(api.host, api.port, where=self.api_port_setting)
            if not self.store:
                return None
            self.storage = open_storage(self.config, self.config_path)
        except BaseException:
            self._release()
            raise
        warn_if_readable(self.config_path, "the station config")
        if url.get_backend_name() == "sqlite" and url.database is not None:
            warn_if_readable(Path(url.database), "the database")
        warn_if_readable(self.storage.writer.spool.path, "the spool")
        return self.storage

    async def start(self) -> None:
        storage = self.storage
        if storage is None and self.store:
            storage = await asyncio.to_thread(self.open)
        try:
            await self._start(storage)
        except BaseException:
            await self.stop()
            raise

    async def _start(self, storage: Storage | None) -> None:
        gap = None
        if storage is not None:
            self.alarms = AlarmService(
                storage.engine, storage.catalog.station_id, AlarmEngine(self.config)
            )
            restored = await asyncio.to_thread(self.alarms.load)
            if restored:
                log.info("alarm states restored: %d", restored)
            gap = await asyncio.to_thread(self._warm_up, storage)
        pipeline = self.pipeline = Pipeline(
            self.tags,
            build_sinks(
                SinkContext(
                    config=self.config,
                    tags=self.tags,
                    live=self.live,
                    emit=self._emit,
                    storage=storage,
                    alarms=self.alarms,
                    log_samples=self.log_samples,
                )
            ),
            report=self.report,
        )
        await pipeline.start()
        self.notifications = [s for s in pipeline.sinks if isinstance(s, NotificationSink)]
        self._event(
            EventKind.CONFIG_LOADED,
            str(self.config_path),
            f"{len(self.config.devices)} device(s), {len(self.tags)} tag(s), "
            f"{len(self.config.alarms)} alarm(s)",
        )
        self._event(EventKind.SERVICE_STARTED, "gateway", f"PSTG {_version()} started")
        if gap is not None:
            missing, since = gap
            pipeline.emit_marker(missing)
            self._event(
                EventKind.SERVICE_STARTED,
                "gateway",
                f"the previous run ended without a clean stop: {len(missing)} tag(s) marked "
                f"not read from {since.isoformat()}",
            )
        devices = list(self.tags.devices.values())
        workers = worker_count(self.config.poller.workers, self.config.devices)
        if workers:
            self.source = WorkerPool(
                plan_workers(devices, workers), pipeline, on_worker_lost=self._worker_lost
            )
        else:
            self.source = Poller(devices, pipeline)
        await self.source.start()
        if self._socket is not None and storage is not None:
            await self._start_api(storage, self._socket)
        await self._start_signs_of_life()

    async def _start_signs_of_life(self) -> None:
        """The heartbeat to an external dead-man's switch, and systemd's READY and watchdog."""
        section = self.config.notifications
        if section is not None and section.heartbeat is not None:
            from pstg.notify.heartbeat import Heartbeat  # aiomqtt only when asked for

            self.heartbeat = Heartbeat(
                section.heartbeat, self.config.station.id, lambda: self.readings
            )
            await self.heartbeat.start()
        self._watchdog = Watchdog()
        await self._watchdog.start()

    async def write_tag(
        self,
        tag_name: str,
        value: WriteValue,
        *,
        read_back: bool = True,
        tolerance: float = 0.0,
        time_limit: float | None = None,
    ) -> WriteOutcome:
        """Write `value` to `tag_name` through whatever polls its device (this process's
        Poller or a worker process) and return the outcome; see pstg.poller.writes.

        NotFound for no such tag; Unavailable when its device is disabled or nothing polls
        (not started, stopping); Forbidden for a tag not `writable: true`; Invalid for a value
        that does not fit the tag."""
        index = self.tags.index(tag_name)  # NotFound
        device = self.tags.devices[self.tags.device_id(index)].device
        if not device.enabled:
            raise Unavailable(f"tag {tag_name}: device {device.id} is disabled in the config")
        source = self.source
        if source is None:
            raise Unavailable(f"tag {tag_name}: the gateway is not polling")
        return await source.write_tag(
            tag_name, value, read_back=read_back, tolerance=tolerance, time_limit=time_limit
        )

    def _warm_up(self, storage: Storage) -> tuple[Batch, datetime] | None:
        """Fill the live view from the last stored samples; when the last run did not end
        with its stop marker (a crash, a kill), the marker batch to write now and its time."""
        ids = storage.catalog.tag_ids
        names = {tag_id: name for name, tag_id in ids.items()}
        stored = latest(storage.engine, list(ids.values()))
        self.live.update(
            Sample(names[tag_id], point.ts, point.value, point.quality, point.reason)
            for tag_id, point in stored.items()
        )
        open_ended = [
            self.tags.index(names[tag_id])
            for tag_id, point in stored.items()
            if point.reason is not QualityReason.STOPPED and names[tag_id] in self.tags
        ]
        if not open_ended:
            return None
        last = max(point.ts for point in stored.values())
        return not_read(self.tags, QualityReason.STOPPED, to_micros(last) + 1, open_ended), last

    async def _start_api(self, storage: Storage, sock: socket.socket) -> None:
        # Imported here: FastAPI, the auth stack and prometheus-client cost tens of MB of
        # memory that `pstg run --no-api` (and every poll-only process) does without.
        from pstg.api.app import create_app
        from pstg.api.context import ApiContext
        from pstg.auth.secret import load_or_create_secret
        from pstg.auth.service import AuthService
        from pstg.commands.service import CommandService
        from pstg.console import install_console
        from pstg.metrics import Metrics
        from pstg.service.http_server import ApiServer

        secret = await asyncio.to_thread(load_or_create_secret, storage.engine)
        self.commands = CommandService(
            storage.engine,
            storage.catalog.station_id,
            self.config,
            self.live,
            self.write_tag,
            starts_in_hour=self._starts_in_hour,
            on_result=self._command_result,
        )
        await self.commands.start()
        self.context = ApiContext(
            engine=storage.engine,
            config=self.config,
            station_id=storage.catalog.station_id,
            tag_ids=storage.catalog.tag_ids,
            auth=AuthService(
                storage.engine,
                secret=secret,
                session_lifetime=timedelta(seconds=self.config.api.session_lifetime),
                session_idle=timedelta(seconds=self.config.api.session_idle),
            ),
            metrics=Metrics(self.device_stats, self.writer_stats),
            live=self.live,
            device_stats=self.device_stats,
            writer_stats=self.writer_stats,
            alarms=self.alarms,
            commands=self.commands,
            notifications=self.notifications,
        )
        app = create_app(self.context)
        install_console(app)  # the web console's pages beside the API (pstg.console)
        self._api = ApiServer(app, sock)
        self._socket = None  # the server owns it now
        await self._api.start()

    def _command_result(
        self, tag: str, state: CommandState, value: CommandValue | None, ts: datetime
    ) -> None:
        """An operated command's outcome, to the command_failed alarms of its tag."""
        if self.alarms is None:
            return
        expected = float(value) if isinstance(value, bool | int | float) else None
        self.alarms.command_result(tag, state.value, expected, ts)

    def _starts_in_hour(self, feedback: str) -> tuple[int, float] | None:
        """Starts of the pump whose running feedback is `feedback` in the last hour, and the
        starts allowed, from its starts_per_hour alarm (None when it has none)."""
        if self.alarms is None:
            return None
        for alarm in self.alarms.engine.alarms():
            rule = alarm.rule
            if rule.kind == "starts_per_hour" and rule.tag == feedback and rule.limit is not None:
                starts = alarm.value if isinstance(alarm.value, float | int) else 0
                return int(starts), rule.limit
        return None

    @property
    def readings(self) -> int:
        """Readings the pipeline has taken so far."""
        return self._readings + (self.pipeline.stats.readings if self.pipeline else 0)

    def writer_stats(self) -> WriterStats | None:
        """The writer's counters, with the readings report by exception kept out."""
        if self.storage is None:
            return None
        stats = self.storage.writer.stats
        stats.suppressed = self.report.suppressed
        return stats

    def device_stats(self) -> Mapping[str, DeviceStats]:
        """Poll statistics per device id."""
        return self.source.stats if self.source is not None else {}

    def _worker_lost(self, devices: Sequence[DeviceTags]) -> None:
        if self.pipeline is None:
            return
        indexes = [e.first + n for e in devices for n in range(e.count)]
        ts = to_micros(utc_now())
        self.pipeline.emit_marker(not_read(self.tags, QualityReason.STOPPED, ts, indexes))

    # --- stop ----------------------------------------------------------------------------

    async def stop(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            await watchdog.stop()
        heartbeat, self.heartbeat = self.heartbeat, None
        if heartbeat is not None:
            await heartbeat.stop()
        api, self._api = self._api, None
        if api is not None:
            await api.stop()
            await self._flush_refusals()
        commands, self.commands = self.commands, None
        if commands is not None:
            await commands.stop()
        source, self.source = self.source, None
        if source is not None:
            await source.stop()
        pipeline = self.pipeline
        if pipeline is not None:
            pipeline.end_of_data(QualityReason.STOPPED)
            self._event(EventKind.SERVICE_STOPPED, "gateway", "stopped")
            await pipeline.close()
            self._readings += pipeline.stats.readings
            self.pipeline = None
            self.notifications = []
        elif self.storage is not None:
            await self.storage.close()
        self._release()

    async def _flush_refusals(self) -> None:
        """Write the audit summaries of refusals the rate limit held back ("N more refused"),
        so a flood just before the stop is on record."""
        if self.context is None:
            return
        try:
            await asyncio.to_thread(self.context.auth.refusals.flush)
        except Exception as exc:  # the stop goes on: samples matter more than a summary
            log.warning("refusal summaries not audited at stop: %s", exc)

    def _release(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    # --- events --------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        if self.pipeline is not None:
            self.pipeline.emit_event(event)

    def _event(self, kind: EventKind, source: str, message: str) -> None:
        self._emit(Event(utc_now(), kind, source, message))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pstg")
    except PackageNotFoundError:
        return "(development)"
