"""`pstg run`: the service: poll every device, store what it reads, log samples and events.

Start-up order: config -> database (schema check, catalog sync) -> writer -> poller ->
consumers. Shutdown runs it backwards: the poller stops first, what it produced is handed to
the writer, and the writer flushes everything before the process exits. Alarms and the API
join this process in later stages.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer

from pstg.cli.app import app, fail, one_line_errors, stderr
from pstg.cli.config_option import load_or_fail
from pstg.config.models import StationConfig
from pstg.model import Event, Quality, Sample
from pstg.poller.output import PollOutput
from pstg.poller.service import Poller
from pstg.storage.database import DatabaseUrlError
from pstg.storage.migrate import SchemaOutOfDate
from pstg.storage.service import Storage, database_url, open_storage

log = logging.getLogger("pstg.run")


@app.command()
def run(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="Station config file (station.yaml).")
    ] = Path("station.yaml"),
    duration: Annotated[
        float | None,
        typer.Option(help="Stop after this many seconds (default: run until SIGINT/SIGTERM)."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Log only changes of quality, not every sample.")
    ] = False,
) -> None:
    """Run the gateway: poll every device, store samples and events, log them.

    The database must be at the current schema (`pstg migrate`). While it is unreachable,
    samples wait in an on-disk spool and are written when it returns.
    """
    station = load_or_fail(config)
    if not any(device.enabled for device in station.devices):
        fail(f"{config}: no enabled devices to poll")
    storage = _open_storage_or_fail(station, config)
    with one_line_errors():
        asyncio.run(_serve(station, storage, duration=duration, quiet=quiet))


def _open_storage_or_fail(station: StationConfig, config: Path) -> Storage:
    try:
        where = str(database_url(station, config))
        return open_storage(station, config)
    except DatabaseUrlError as exc:
        fail(f"{config}: storage.url: {exc}")
    except SchemaOutOfDate as exc:
        fail(str(exc))
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0]
        fail(f"cannot open the database {where}: {reason}")


async def _serve(
    station: StationConfig, storage: Storage, *, duration: float | None, quiet: bool
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await storage.start()
    writer = storage.writer
    output = PollOutput()
    log_samples = _SampleLog(quiet)
    try:
        async with Poller(station, output) as poller:
            stderr.print(
                f"polling {len(poller.loops)} device(s) of station {station.station.id}, "
                f"storing to {storage.where}; Ctrl-C to stop"
            )
            consumers = [
                asyncio.create_task(_consume_samples(output, writer.submit, log_samples)),
                asyncio.create_task(_consume_events(output, writer.submit_event)),
            ]
            try:
                await asyncio.wait_for(stop.wait(), timeout=duration)
            except TimeoutError:
                pass
            finally:
                for task in consumers:
                    task.cancel()
                await asyncio.gather(*consumers, return_exceptions=True)
        # The poller has stopped: hand over what it produced last, then flush it all.
        _drain(output, writer.submit, writer.submit_event, log_samples)
    finally:
        await storage.close()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    stats = writer.stats
    stderr.print(
        f"stopped: {stats.stored} sample(s) stored, {stats.suppressed} unchanged not stored"
        + (f", {storage.writer.spool.rows} waiting in the spool" if stats.spooled else "")
    )


class _SampleLog:
    """Logs samples: every one, or with --quiet only changes of quality."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.last_quality: dict[str, Quality] = {}

    def __call__(self, batch: Sequence[Sample]) -> None:
        for sample in batch:
            changed = self.last_quality.get(sample.tag) is not sample.quality
            self.last_quality[sample.tag] = sample.quality
            if self.quiet and not changed:
                continue
            log.info("%s", format_sample(sample))


def _log_event(event: Event) -> None:
    log.warning("event %s %s: %s", event.kind.value, event.source, event.message)


async def _consume_samples(
    output: PollOutput, store: Callable[[Sequence[Sample]], None], log_samples: _SampleLog
) -> None:
    while True:
        batch = await output.samples.get()
        store(batch)
        log_samples(batch)


async def _consume_events(output: PollOutput, store: Callable[[Event], None]) -> None:
    while True:
        event: Event = await output.events.get()
        store(event)
        _log_event(event)


def _drain(
    output: PollOutput,
    store: Callable[[Sequence[Sample]], None],
    store_event: Callable[[Event], None],
    log_samples: _SampleLog,
) -> None:
    while not output.samples.empty():
        batch = output.samples.get_nowait()
        store(batch)
        log_samples(batch)
    while not output.events.empty():
        event = output.events.get_nowait()
        store_event(event)
        _log_event(event)


def format_sample(sample: Sample) -> str:
    value = "-" if sample.value is None else sample.value
    reason = f" ({sample.reason.value})" if sample.reason.value else ""
    ts = sample.ts.isoformat(timespec="milliseconds")
    return f"{ts} {sample.tag}={value} {sample.quality.value}{reason}"
