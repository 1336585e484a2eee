"""`pstg run`: the service: poll every device, store what it reads, serve the API.

The gateway (pstg.service.gateway) starts in order — station lock, the API's socket, database
(schema check, catalog sync), pipeline, poll loops, API — and stops backwards, flushing
storage before the process exits. This command sets up logging and signals.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import signal
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pstg.cli.app import app, fail, one_line_errors, stderr
from pstg.cli.config_option import load_or_fail
from pstg.cli.database_option import schema_advice
from pstg.cli.errors import exit_code
from pstg.cli.time_options import DURATION_METAVAR, duration_value
from pstg.errors import Invalid
from pstg.heap import freeze_start_up

if TYPE_CHECKING:
    from pstg.config.models import StationConfig
    from pstg.logs import LogQueue
    from pstg.service.gateway import Gateway

log = logging.getLogger("pstg.run")

LEVELS = ("debug", "info", "warning", "error")
INVALID = exit_code(Invalid)
"""The exit status of a malformed option value, as for every command (pstg.cli.errors)."""


@app.command()
def run(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="Station config file (station.yaml).")
    ] = Path("station.yaml"),
    duration: Annotated[
        float | None,
        typer.Option(
            parser=duration_value,
            metavar=DURATION_METAVAR,
            help="Stop after this long: 30s, 5m, 2h, or seconds (default: until SIGINT/SIGTERM).",
        ),
    ] = None,
    api: Annotated[
        bool, typer.Option("--api/--no-api", help="Serve the REST API (api.host:api.port).")
    ] = True,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            help="Least severity logged: debug, info, warning or error.",
            case_sensitive=False,
        ),
    ] = "info",
    log_format: Annotated[
        str, typer.Option("--log-format", help="text, or json (one object per line).")
    ] = "text",
    log_samples: Annotated[
        bool, typer.Option("--log-samples", help="Also log every reading (very verbose).")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Log warnings and errors only.")
    ] = False,
    store: Annotated[
        bool,
        typer.Option(
            "--store/--no-store",
            help="Store readings (default). --no-store polls and decodes only: no database, "
            "alarms or API (benchmarks, commissioning).",
        ),
    ] = True,
    migrate: Annotated[
        bool,
        typer.Option(
            "--migrate",
            help="First create the database's schema, or upgrade an old one (as `pstg migrate`).",
        ),
    ] = False,
) -> None:
    """Run the gateway: poll every device, store samples and events, serve the API.

    The database must be at the current schema: run `pstg migrate -c FILE` once, or start
    with --migrate. While the database is unreachable, samples wait in an on-disk spool and
    are written when it returns. Events (devices connecting and lost, alarms, spool use) are
    logged; readings only with --log-samples.
    """
    level = "warning" if quiet else log_level.lower()
    if level not in LEVELS:
        fail(f"--log-level must be one of {', '.join(LEVELS)}, not {log_level!r}", INVALID)
    if log_format not in ("text", "json"):
        fail(f"--log-format must be text or json, not {log_format!r}", INVALID)
    station = load_or_fail(config)
    if not any(device.enabled for device in station.devices):
        fail(f"{config}: no enabled devices to poll")
    if migrate and store:
        migrate_before_start(station, config)
    logs = start_logging(level, log_format)
    try:
        gateway = open_gateway_or_fail(
            station, config, serve_api=api, log_samples=log_samples, store=store
        )
        with one_line_errors():
            asyncio.run(serve(gateway, duration=duration))
    finally:
        logs.stop()


def start_logging(level: str, log_format: str) -> LogQueue:
    """Logging through a bounded queue (pstg.logs): output never blocks the service."""
    from pstg.cli.app import options
    from pstg.logs import configure

    chosen = "debug" if options.debug else level
    logs = configure(chosen, "json" if log_format == "json" else "text")
    if not options.debug:
        logging.getLogger("alembic").setLevel(logging.WARNING)
        # pymodbus logs every failed request at ERROR; our poller reports failures itself.
        logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    return logs


def open_gateway_or_fail(
    station: StationConfig,
    config: Path,
    *,
    serve_api: bool,
    log_samples: bool = False,
    store: bool = True,
    api_port_setting: str | None = None,
) -> Gateway:
    """A gateway that holds the station's lock, its API socket and a checked database, or a
    one-line failure. `api_port_setting`: what to name when the API's port is taken (see
    Gateway)."""
    import sqlalchemy as sa

    from pstg.errors import PstgError, Unavailable
    from pstg.service.gateway import Gateway
    from pstg.storage.database import DatabaseUrlError, database_url
    from pstg.storage.migrate import SchemaOutOfDate

    gateway = Gateway(
        station,
        config,
        serve_api=serve_api,
        log_samples=log_samples,
        config_name=str(config),
        store=store,
        api_port_setting=api_port_setting,
    )
    try:
        where = str(database_url(station, config))
        gateway.open()
    except DatabaseUrlError as exc:
        fail(f"{config}: storage.url: {exc}", exit_code(exc))
    except SchemaOutOfDate as exc:
        path = shlex.quote(str(config))
        advice = schema_advice(
            exc, f"pstg migrate -c {path}", also=f", or start with `pstg run -c {path} --migrate`"
        )
        fail(advice, exit_code(exc))
    except PstgError as exc:
        fail(exc.message, exit_code(exc))
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0]
        fail(f"cannot open the database {where}: {reason}", exit_code(Unavailable))
    return gateway


def migrate_before_start(station: StationConfig, config: Path) -> None:
    """--migrate: bring the config's database to the current schema before the gateway opens
    it; one line says what was done."""
    from pstg.cli.migrate import migrate_database
    from pstg.storage.database import DatabaseUrlError, database_url

    try:
        url = database_url(station, config)
    except DatabaseUrlError as exc:
        fail(f"{config}: storage.url: {exc}", exit_code(exc))
    with one_line_errors():
        stderr.print(migrate_database(url), markup=False)


async def serve(gateway: Gateway, *, duration: float | None, banner: str = "") -> None:
    """Run `gateway` until SIGINT/SIGTERM or `duration`, then stop it cleanly.

    A second signal while stopping exits at once, without waiting for the final flush."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            stderr.print("second signal: exiting now, without the final flush")
            os._exit(130)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    try:
        await gateway.start()
        freeze_start_up()
        storage = gateway.storage
        api = f", API on {gateway.url}" if gateway.serve_api else ""
        where = f"storing to {storage.where}" if storage is not None else "storing nothing"
        stderr.print(
            f"polling {len(gateway.config.devices)} device(s) of station "
            f"{gateway.config.station.id}, {where}{api}; Ctrl-C to stop"
        )
        if banner:
            stderr.print(banner)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=duration)
        stderr.print("stopping: flushing what was read")
        await gateway.stop()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    if storage is None:
        stderr.print(f"stopped: {gateway.readings} reading(s) polled, none stored")
        return
    stats = storage.writer.stats
    stderr.print(
        f"stopped: {stats.stored} sample(s) stored, "
        f"{gateway.report.suppressed} unchanged not stored"
        + (f", {storage.writer.spool.rows} waiting in the spool" if stats.spooled else "")
    )
