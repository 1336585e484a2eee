"""Worker processes: with many devices, the poll loops run in processes of their own.

One Python process runs on one core. Polling and decoding are most of the gateway's work at
hundreds of devices, so a large station splits its devices over worker processes while the
main process keeps the pipeline (report by exception, storage, alarms, the live view) and the
API — one live view, one writer.

- A worker owns whole devices *and* the lines they share (devices on one serial port or
  gateway host:port go to the same worker: a line takes one request at a time).
- Each worker is a spawned process running a `Poller` over its devices. Its batches, events,
  device statistics and log records travel to the main process over a socket pair as
  length-prefixed pickles; batches of one flush window are concatenated, device after device,
  so the main process handles a few large batches rather than many small ones.
- Writes (`WorkerPool.write_tag`): the main process checks the tag and the value, then sends
  the worker owning the device a "write" request with an id; the worker writes through its
  Poller (on the device's line, ahead of the polls) and answers "written" with that id and the
  outcome. A worker that ends, or does not answer within the write's time limit plus
  CHANNEL_MARGIN, makes the outcome `failed`; a worker that is not running refuses the write
  (Unavailable): a write never waits on a worker that cannot answer.
- Stopping: the main process asks each worker to stop within a deadline; the worker stops its
  loops (bounded, see pstg.poller.service), sends what it still holds and says "stopped". A
  worker that dies is reported, its tags are marked bad, and it is started again.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import multiprocessing
import os
import pickle
import socket
import struct
import time
from collections.abc import Callable, Hashable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cached_property
from multiprocessing.connection import Connection
from typing import Any, Literal

from pstg.batch import Batch, Coalescer
from pstg.config.models import DeviceConfig
from pstg.config.tag_table import DeviceTags
from pstg.errors import NotFound, PstgError, Unavailable
from pstg.heap import freeze_start_up
from pstg.model import Event
from pstg.poller.output import PollOutput
from pstg.poller.service import STOP_DEADLINE, Poller
from pstg.poller.stats import DeviceStats
from pstg.poller.writes import (
    WriteOutcome,
    WriteStatus,
    WriteValue,
    check_write,
    default_timeout,
)

log = logging.getLogger("pstg.poller.workers")

AUTO_SINGLE_PROCESS_BELOW = 25_000.0
"""Values per second under which `workers: auto` keeps polling in the main process."""
AUTO_VALUES_PER_WORKER = 60_000.0
"""Values per second one worker process is given under `workers: auto`."""
FLUSH_EVERY = 0.02  # seconds a worker collects batches before sending them
STATS_EVERY = 1.0  # seconds between a worker's statistics reports
RESTART_DELAY = 5.0
CHANNEL_MARGIN = 2.0
"""Seconds a write's answer may take on the channel beyond the write's own time limit."""
MAX_BUFFERED_BYTES = 64 * 1024 * 1024
"""A worker drops batches (and says so) rather than buffer more than this for the main
process: only a stalled main process gets there, and memory must stay bounded."""

_HEADER = struct.Struct(">I")

Message = tuple[str, Any]


# --- planning -------------------------------------------------------------------------------


def values_per_second(devices: Sequence[DeviceConfig]) -> float:
    """The polling load: tags read per second over the enabled devices."""
    return sum(len(d.tags) / d.poll_interval for d in devices if d.enabled)


def worker_count(setting: int | Literal["auto"], devices: Sequence[DeviceConfig]) -> int:
    """How many worker processes to run; 0 polls in the main process."""
    if setting != "auto":
        return setting
    load = values_per_second(devices)
    if load < AUTO_SINGLE_PROCESS_BELOW:
        return 0
    cores = os.cpu_count() or 1
    return max(1, min(cores, math.ceil(load / AUTO_VALUES_PER_WORKER)))


def line_of(device: DeviceConfig) -> Hashable:
    """What devices must share a worker for: their physical line."""
    if device.serial_port:
        return ("serial", device.serial_port)
    return ("network", device.host, device.port)


def plan_workers(devices: Sequence[DeviceTags], count: int) -> list[list[DeviceTags]]:
    """Split `devices` over `count` workers: whole lines, the heaviest first to the least
    loaded worker (so loads come out nearly even)."""
    lines: dict[Hashable, list[DeviceTags]] = {}
    for entry in devices:
        if entry.device.enabled:
            lines.setdefault(line_of(entry.device), []).append(entry)
    groups: list[list[DeviceTags]] = [[] for _ in range(max(1, count))]
    loads = [0.0] * len(groups)
    by_load = sorted(lines.values(), key=lambda line: -values_per_second([e.device for e in line]))
    for line in by_load:
        lightest = loads.index(min(loads))
        groups[lightest].extend(line)
        loads[lightest] += values_per_second([entry.device for entry in line])
    return [group for group in groups if group]


# --- the channel ----------------------------------------------------------------------------


def _frame(message: Message) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(payload)) + payload


async def _receive(reader: asyncio.StreamReader) -> Message | None:
    """The next message, or None at the end of the stream."""
    try:
        header = await reader.readexactly(_HEADER.size)
        payload = await reader.readexactly(_HEADER.unpack(header)[0])
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    message: Message = pickle.loads(payload)
    return message


# --- the worker's side ----------------------------------------------------------------------


class _ChannelOutput:
    """The worker's poll output: batches collected for FLUSH_EVERY, then sent in one frame."""

    def __init__(self, writer: asyncio.StreamWriter, tag_count: int) -> None:
        self._writer = writer
        self._batches = Coalescer(tag_count)
        self._events: list[Event] = []
        self.dropped = 0

    def emit_batch(self, batch: Batch) -> None:
        self._batches.add(batch)

    def emit_event(self, event: Event) -> None:
        self._events.append(event)

    def send(self, message: Message) -> None:
        transport = self._writer.transport
        if transport.is_closing():
            return
        if message[0] == "batches" and transport.get_write_buffer_size() > MAX_BUFFERED_BYTES:
            self.dropped += sum(len(batch) for batch in message[1])
            return
        self._writer.write(_frame(message))

    def flush(self) -> None:
        if self._events:
            events, self._events = self._events, []
            self.send(("events", events))
        if self._batches.rows:
            self.send(("batches", self._batches.take()))


class _LogForwarder(logging.Handler):
    """Sends the worker's log records to the main process, which logs them as its own."""

    def __init__(self, output: _ChannelOutput) -> None:
        super().__init__()
        self._output = output

    def emit(self, record: logging.LogRecord) -> None:
        try:
            failure = record.exc_info
            entry = {
                "name": record.name,
                "levelno": record.levelno,
                "levelname": record.levelname,
                "msg": f"[worker {os.getpid()}] {record.getMessage()}",
                "args": None,
                "created": record.created,
                "exc_text": _FORMATTER.formatException(failure) if failure else None,
            }
            self._output.send(("log", entry))
        except Exception:  # a log record must never take the worker down
            self.handleError(record)


_FORMATTER = logging.Formatter()


def worker_main(connection: Connection, devices: list[DeviceTags], level: int) -> None:
    """Entry point of a worker process (spawned): poll `devices` until told to stop."""
    sock = socket.socket(fileno=os.dup(connection.fileno()))
    connection.close()
    asyncio.run(_worker(sock, devices, level))


async def _worker(sock: socket.socket, devices: list[DeviceTags], level: int) -> None:
    reader, writer = await asyncio.open_connection(sock=sock)
    output = _ChannelOutput(writer, max(entry.first + entry.count for entry in devices))
    root = logging.getLogger()
    root.handlers[:] = [_LogForwarder(output)]
    root.setLevel(level)
    logging.getLogger("pymodbus").setLevel(max(level, logging.CRITICAL))
    poller = Poller(devices, output)
    poller.build()
    await poller.start()
    freeze_start_up()
    output.send(("ready", os.getpid()))

    async def report() -> None:
        next_stats = 0.0
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            output.flush()
            if time.monotonic() >= next_stats:
                next_stats = time.monotonic() + STATS_EVERY
                output.send(("stats", poller.stats))
            if output.dropped:
                log.warning("main process not reading: %d value(s) dropped", output.dropped)
                output.dropped = 0
            with suppress(ConnectionError):
                await writer.drain()

    async def write(request: _WriteRequest) -> None:
        answer: WriteOutcome | PstgError
        try:
            answer = await poller.write_tag(
                request.tag,
                request.value,
                read_back=request.read_back,
                tolerance=request.tolerance,
                time_limit=request.time_limit,
            )
        except PstgError as exc:
            answer = exc
        except Exception as exc:  # a bug must come back as an answer, not a silent wait
            log.exception("write of %s failed", request.tag)
            answer = Unavailable(f"write of {request.tag} failed in the worker: {exc!r}")
        output.send(("written", (request.id, answer)))

    reporter = asyncio.create_task(report(), name="worker report")
    writes: set[asyncio.Task[None]] = set()
    deadline = STOP_DEADLINE
    while (message := await _receive(reader)) is not None:
        if message[0] == "stop":
            deadline = float(message[1])
            break
        if message[0] == "write":
            task = asyncio.create_task(write(message[1]), name=f"write {message[1].tag}")
            writes.add(task)
            task.add_done_callback(writes.discard)
    # Asked to stop, or the main process is gone: stop either way.
    for task in writes:
        task.cancel()
    await poller.stop(deadline)
    reporter.cancel()
    with suppress(asyncio.CancelledError):
        await reporter
    output.flush()
    output.send(("stats", poller.stats))
    output.send(("stopped", None))
    with suppress(ConnectionError):
        await writer.drain()
    writer.close()


# --- the main process's side ----------------------------------------------------------------


@dataclass(frozen=True)
class _WriteRequest:
    """A write the main process asks a worker for; answered by ("written", (id, outcome))."""

    id: int
    tag: str
    value: WriteValue
    read_back: bool
    tolerance: float
    time_limit: float


class _WorkerGone(Exception):
    """The worker ended with a write pending; the message says so."""


@dataclass
class _Worker:
    number: int
    devices: list[DeviceTags]
    process: Any = None  # multiprocessing.Process (spawn context)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    task: asyncio.Task[None] | None = None
    ready: asyncio.Event | None = None
    stopped: bool = False
    writes: dict[int, asyncio.Future[WriteOutcome]] = field(default_factory=dict)
    """Writes sent to the worker and not answered yet, by request id."""


class WorkerPool:
    """Runs `groups` of devices in worker processes, feeding `output` (the pipeline).

    `on_worker_lost(devices)` is called when a worker dies unexpectedly, so the caller can mark
    its tags bad; the worker is started again after RESTART_DELAY.
    """

    def __init__(
        self,
        groups: Sequence[Sequence[DeviceTags]],
        output: PollOutput,
        *,
        on_worker_lost: Callable[[Sequence[DeviceTags]], None] | None = None,
        start_timeout: float = 120.0,
        restart_delay: float = RESTART_DELAY,
    ) -> None:
        self.output = output
        self.on_worker_lost = on_worker_lost
        self.start_timeout = start_timeout
        self.restart_delay = restart_delay
        self._workers = [_Worker(n, list(group)) for n, group in enumerate(groups)]
        self._stats: dict[str, DeviceStats] = {
            entry.device.id: DeviceStats(entry.device.id)
            for w in self._workers
            for entry in w.devices
        }
        self._stopping = False
        self._context = multiprocessing.get_context("spawn")
        self._write_ids = itertools.count(1)

    @cached_property
    def _owner(self) -> dict[str, tuple[_Worker, DeviceConfig]]:
        """Each tag's worker and device, for writes: built at the first write, not at start
        (with 100,000 tags the map holds about 10 MB that a station nobody writes to should
        not pay)."""
        return {
            tag.name: (worker, entry.device)
            for worker in self._workers
            for entry in worker.devices
            for tag in entry.device.tags
        }

    @property
    def size(self) -> int:
        return len(self._workers)

    @property
    def stats(self) -> dict[str, DeviceStats]:
        return self._stats

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process is not None and w.process.pid]

    async def start(self) -> None:
        """Start every worker and wait until each polls (or fail after start_timeout)."""
        await asyncio.gather(*(self._spawn(worker) for worker in self._workers))
        try:
            async with asyncio.timeout(self.start_timeout):
                for worker in self._workers:
                    assert worker.ready is not None
                    await worker.ready.wait()
        except TimeoutError:
            await self.stop(1.0)
            raise RuntimeError(
                f"worker processes did not start within {self.start_timeout:g} s"
            ) from None
        log.info(
            "polling in %d worker process(es): %s",
            len(self._workers),
            ", ".join(f"{len(w.devices)} device(s)" for w in self._workers),
        )

    async def write_tag(
        self,
        tag_name: str,
        value: WriteValue,
        *,
        read_back: bool = True,
        tolerance: float = 0.0,
        time_limit: float | None = None,
    ) -> WriteOutcome:
        """Write `value` to `tag_name` in the worker polling its device; as `Poller.write_tag`,
        see the module docstring for a worker that ends or does not answer.

        NotFound for a tag of no worker's device, Unavailable when that worker is not running
        (starting, restarting, stopping), Forbidden and Invalid as `check_write`."""
        owner = self._owner.get(tag_name)
        if owner is None:
            raise NotFound(f"no tag {tag_name!r} on a device polled by a worker process")
        worker, device = owner
        check_write(device, tag_name, value)  # refused here, before the channel
        limit = (
            time_limit if time_limit is not None else default_timeout(device, read_back=read_back)
        )
        writer = worker.writer
        if (
            self._stopping
            or writer is None
            or writer.is_closing()
            or worker.ready is None
            or not worker.ready.is_set()
        ):
            raise Unavailable(
                f"tag {tag_name}: worker process {worker.number} polling device {device.id} "
                "is not running",
                retry_after=self.restart_delay,
            )
        request = _WriteRequest(next(self._write_ids), tag_name, value, read_back, tolerance, limit)
        answer: asyncio.Future[WriteOutcome] = asyncio.get_running_loop().create_future()
        worker.writes[request.id] = answer
        began = time.perf_counter()

        def failed(message: str) -> WriteOutcome:
            return WriteOutcome(
                tag=tag_name,
                device=device.id,
                value=value,
                status=WriteStatus.FAILED,
                message=f"{message}; the write may or may not have reached the device",
                seconds=time.perf_counter() - began,
            )

        try:
            writer.write(_frame(("write", request)))
            async with asyncio.timeout(limit + CHANNEL_MARGIN):
                return await answer
        except TimeoutError:
            return failed(
                f"worker process {worker.number} did not answer within {limit + CHANNEL_MARGIN:g}s"
            )
        except _WorkerGone as exc:
            return failed(str(exc))
        finally:
            worker.writes.pop(request.id, None)

    def _answered(self, worker: _Worker, body: tuple[int, WriteOutcome | PstgError]) -> None:
        request_id, result = body
        answer = worker.writes.get(request_id)
        if answer is None or answer.done():
            return  # given up on already
        if isinstance(result, BaseException):
            answer.set_exception(result)
        else:
            answer.set_result(result)

    @staticmethod
    def _abandon_writes(worker: _Worker) -> None:
        for answer in worker.writes.values():
            if not answer.done():
                answer.set_exception(
                    _WorkerGone(f"worker process {worker.number} ended before answering")
                )
        worker.writes.clear()

    async def _spawn(self, worker: _Worker) -> None:
        parent, child = self._context.Pipe(duplex=True)
        level = logging.getLogger().getEffectiveLevel()
        process = self._context.Process(
            target=worker_main,
            args=(child, worker.devices, level),
            name=f"pstg-worker-{worker.number}",
            daemon=True,
        )
        # Starting pickles the devices and execs Python: seconds for a big share, off the loop.
        await asyncio.to_thread(process.start)
        child.close()
        sock = socket.socket(fileno=os.dup(parent.fileno()))
        parent.close()
        worker.reader, worker.writer = await asyncio.open_connection(sock=sock)
        worker.process = process
        worker.ready = asyncio.Event()
        worker.stopped = False
        worker.task = asyncio.create_task(self._read(worker), name=f"worker {worker.number}")

    async def _read(self, worker: _Worker) -> None:
        assert worker.reader is not None
        assert worker.ready is not None
        output = self.output
        while (message := await _receive(worker.reader)) is not None:
            kind, body = message
            if kind == "batches":
                for batch in body:
                    output.emit_batch(batch)
            elif kind == "events":
                for event in body:
                    output.emit_event(event)
            elif kind == "stats":
                self._stats.update(body)
            elif kind == "log":
                record = logging.makeLogRecord(body)
                logging.getLogger(record.name).handle(record)
            elif kind == "ready":
                worker.ready.set()
            elif kind == "written":
                self._answered(worker, body)
            elif kind == "stopped":
                worker.stopped = True
        worker.ready.clear()  # writes are refused until it runs again
        self._abandon_writes(worker)
        if not worker.stopped and not self._stopping:
            await self._lost(worker)

    async def _lost(self, worker: _Worker) -> None:
        code = await asyncio.to_thread(_exit_code, worker.process)
        log.error(
            "worker process %d (%d device(s)) ended unexpectedly (exit code %s); "
            "restarting it in %.0f s",
            worker.number,
            len(worker.devices),
            code,
            self.restart_delay,
        )
        if self.on_worker_lost is not None:
            self.on_worker_lost(worker.devices)
        await asyncio.sleep(self.restart_delay)
        if not self._stopping:
            await self._spawn(worker)

    async def stop(self, deadline: float = STOP_DEADLINE) -> None:
        """Ask every worker to stop within `deadline`, take what they still send, end them."""
        self._stopping = True
        for worker in self._workers:
            if worker.writer is not None and not worker.writer.is_closing():
                worker.writer.write(_frame(("stop", deadline)))
                with suppress(ConnectionError):
                    await worker.writer.drain()
        tasks = [w.task for w in self._workers if w.task is not None]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=deadline + 5.0)
            for task in late:
                task.cancel()
        for worker in self._workers:
            if worker.writer is not None:
                worker.writer.close()
            if worker.process is not None:
                await asyncio.to_thread(_end, worker.process)


def _exit_code(process: Any) -> int | None:
    process.join(timeout=5)
    code: int | None = process.exitcode
    return code


def _end(process: Any) -> None:
    process.join(timeout=5)
    if process.is_alive():
        log.error("worker process %s did not exit; killing it", process.pid)
        process.kill()
        process.join(timeout=5)
