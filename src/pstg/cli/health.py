"""`pstg health`: is the gateway well? Asks a running service, or checks the config's
database and devices directly when no service answers. Exit 0 when the status is `ok`, 1 when
it is `degraded` (some device down) or `down` (the database or every device).

The service that answers on the config's API address must be the config's station: another
station's gateway on that port (a copied config, a port mix-up) is an error of its own
(exit 11, a conflict in `pstg.cli.errors`), never its health reported as this station's."""

from __future__ import annotations

import asyncio
import json
import shlex
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pstg.cli.app import app, fail, stdout
from pstg.cli.errors import exit_code
from pstg.errors import Conflict

if TYPE_CHECKING:
    from pstg.config.models import StationConfig


@app.command()
def health(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Station config (for the API address, the station id the service must have, "
            "and the direct checks; default: station.yaml).",
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="Base URL of a running service (default: from the config's api)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for each check.")] = 3.0,
) -> None:
    """Check the gateway: the service's /api/v1/health, or else the database and each device.

    Exit status: 0 healthy, 1 not, 11 when the service answering is another station's.
    """
    from pstg.cli.config_option import load_or_fail

    path = config or Path("station.yaml")
    station = load_or_fail(path) if url is None or path.exists() else None
    base = url or _api_url(station)
    report = _ask_service(base, timeout)
    if report is None:
        if station is None:
            _print({"status": "down", "error": f"no service answers at {base}"}, as_json)
            raise typer.Exit(1)
        report = asyncio.run(_direct_checks(station, path, timeout))
        report["service"] = f"no service answers at {base}; checked directly"
    elif station is not None and (url is None or config is not None):
        _check_station(report, base, station.station.id, path, as_json)
    _print(report, as_json)
    raise typer.Exit(0 if report.get("status") == "ok" else 1)


def _check_station(
    report: dict[str, Any], base: str, expected: str, config: Path, as_json: bool
) -> None:
    """Fail unless the service that answered runs the station of `config`."""
    answered = report.get("station_id")
    if answered == expected:
        return
    if answered is None:
        problem = f"the service at {base} does not say which station it runs (not PSTG, or an "
        problem += f"older one), so it cannot be taken for {expected!r} of {config}"
    else:
        problem = f"the service at {base} runs station {answered!r}, not {expected!r} of {config}"
    if as_json:
        _print({"status": "wrong_station", "error": problem, "station_id": answered}, as_json)
    fail(problem, exit_code(Conflict))


def _api_url(station: StationConfig | None) -> str:
    if station is None:
        return "http://127.0.0.1:8000"
    return f"http://{station.api.host}:{station.api.port}"


def _ask_service(base: str, timeout: float) -> dict[str, Any] | None:
    """The service's health report (also for a 503), or None when nothing answers."""
    request = urllib.request.Request(f"{base.rstrip('/')}/api/v1/health")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
    except (urllib.error.URLError, TimeoutError, OSError):
        return None
    try:
        report: dict[str, Any] = json.loads(body)
    except ValueError:
        return {"status": "down", "error": f"{base} answered, but not with a health report"}
    return report


async def _direct_checks(station: StationConfig, config: Path, wait: float) -> dict[str, Any]:
    database = await asyncio.to_thread(_check_database, station, config)
    devices = await asyncio.gather(
        *(_check_device(device, wait) for device in station.devices if device.enabled)
    )
    # The service's words (docs/api.md): down when it cannot do its job at all.
    if not database["ok"] or (devices and not any(device["ok"] for device in devices)):
        status = "down"
    elif all(device["ok"] for device in devices):
        status = "ok"
    else:
        status = "degraded"
    return {"status": status, "database": database, "devices": devices}


def _check_database(station: StationConfig, config: Path) -> dict[str, Any]:
    import sqlalchemy as sa

    from pstg.cli.database_option import schema_advice
    from pstg.storage.database import DatabaseUrlError, create_engine, database_url, describe
    from pstg.storage.migrate import SchemaOutOfDate, check_current

    try:
        url = database_url(station, config)
    except DatabaseUrlError as exc:
        return {"ok": False, "error": str(exc)}
    engine = create_engine(url)
    try:
        check_current(engine, describe(url))
        return {"ok": True, "error": None, "url": describe(url)}
    except SchemaOutOfDate as exc:
        advice = schema_advice(exc, f"pstg migrate -c {shlex.quote(str(config))}")
        return {"ok": False, "error": advice, "url": describe(url)}
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return {"ok": False, "error": reason, "url": describe(url)}
    finally:
        engine.dispose()


async def _check_device(device: Any, wait: float) -> dict[str, Any]:
    from pstg.drivers.base import DriverContext
    from pstg.drivers.errors import DriverError
    from pstg.drivers.registry import create_driver

    context = DriverContext()
    try:
        driver = create_driver(device.model_copy(update={"timeout": wait}), context)
        await driver.connect()
        return {"id": device.id, "ok": True, "error": None}
    except DriverError as exc:
        return {"id": device.id, "ok": False, "error": str(exc), "kind": exc.kind.value}
    finally:
        await context.aclose()


def _print(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        stdout.print_json(json.dumps(report, default=str))
        return
    stdout.print(f"status: {report.get('status')}", markup=False)
    for key in ("service", "error"):
        if report.get(key):
            stdout.print(f"{key}: {report[key]}", markup=False)
    database = report.get("database")
    if isinstance(database, dict):
        state = "ok" if database.get("ok") else f"FAILED: {database.get('error')}"
        stdout.print(f"database: {state}", markup=False)
    for device in report.get("devices") or []:
        ok = device.get("ok", device.get("status") == "up")
        detail = (
            ""
            if ok
            else f": {device.get('error') or device.get('last_error') or device.get('status')}"
        )
        stdout.print(f"device {device.get('id')}: {'ok' if ok else 'FAILED'}{detail}", markup=False)
