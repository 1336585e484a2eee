"""`pstg run`: the service: poll every device, store what it reads, serve the API.

The gateway (pstg.gateway) starts in order — database (schema check, catalog sync), writer,
live cache, poller, API — and stops backwards, flushing the writer before the process exits.
This command adds logging of samples and events, and the signal handling.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pstg.cli.app import app, fail, one_line_errors, stderr
from pstg.cli.config_option import load_or_fail
from pstg.model import Event, Quality, Sample

if TYPE_CHECKING:
    from pstg.config.models import StationConfig
    from pstg.gateway import Gateway

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
    api: Annotated[
        bool, typer.Option("--api/--no-api", help="Serve the REST API (api.host:api.port).")
    ] = True,
) -> None:
    """Run the gateway: poll every device, store samples and events, serve the API.

    The database must be at the current schema (`pstg migrate`). While it is unreachable,
    samples wait in an on-disk spool and are written when it returns.
    """
    station = load_or_fail(config)
    if not any(device.enabled for device in station.devices):
        fail(f"{config}: no enabled devices to poll")
    gateway = open_gateway_or_fail(station, config, serve_api=api, quiet=quiet)
    with one_line_errors():
        asyncio.run(serve(gateway, duration=duration))


def open_gateway_or_fail(
    station: StationConfig, config: Path, *, serve_api: bool, quiet: bool
) -> Gateway:
    """A gateway whose database is open and checked, or a one-line failure."""
    import sqlalchemy as sa

    from pstg.gateway import Gateway
    from pstg.storage.database import DatabaseUrlError, database_url
    from pstg.storage.migrate import SchemaOutOfDate

    gateway = Gateway(
        station, config, serve_api=serve_api, on_samples=SampleLog(quiet), on_event=log_event
    )
    try:
        where = str(database_url(station, config))
        gateway.open()
    except DatabaseUrlError as exc:
        fail(f"{config}: storage.url: {exc}")
    except SchemaOutOfDate as exc:
        fail(str(exc))
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0]
        fail(f"cannot open the database {where}: {reason}")
    return gateway


async def serve(gateway: Gateway, *, duration: float | None, banner: str = "") -> None:
    """Run `gateway` until SIGINT/SIGTERM or `duration`, then stop it cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        try:
            await gateway.start()
        except OSError as exc:
            await gateway.stop()
            fail(str(exc))
        storage = gateway.storage
        assert storage is not None
        api = f", API on {gateway.url}" if gateway.serve_api else ""
        stderr.print(
            f"polling {len(gateway.config.devices)} device(s) of station "
            f"{gateway.config.station.id}, storing to {storage.where}{api}; Ctrl-C to stop"
        )
        if banner:
            stderr.print(banner)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=duration)
        await gateway.stop()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    stats = storage.writer.stats
    stderr.print(
        f"stopped: {stats.stored} sample(s) stored, {stats.suppressed} unchanged not stored"
        + (f", {storage.writer.spool.rows} waiting in the spool" if stats.spooled else "")
    )


class SampleLog:
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


def log_event(event: Event) -> None:
    log.warning("event %s %s: %s", event.kind.value, event.source, event.message)


def format_sample(sample: Sample) -> str:
    value = "-" if sample.value is None else sample.value
    reason = f" ({sample.reason.value})" if sample.reason.value else ""
    ts = sample.ts.isoformat(timespec="milliseconds")
    return f"{ts} {sample.tag}={value} {sample.quality.value}{reason}"
