"""`pstg check-config`: validate a station file and report every problem, or summarise it.

Meant for a field engineer editing station.yaml and for CI: problems go to stderr one per line
as `file:line location: message` (editors and grep understand that form), exit status 1;
a valid file prints a one-line summary to stdout, exit status 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pstg.cli.app import app, fail, one_line_errors, stderr, stdout
from pstg.cli.text import count

if TYPE_CHECKING:
    from pstg.config.models import DeviceConfig, StationConfig
    from pstg.drivers.planner import ReadPlan


@app.command("check-config")
def check_config(
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="[FILE]", help="Station config to validate (default: station.yaml)."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="The same as FILE, as every other command takes it."),
    ] = None,
    plan: Annotated[
        bool,
        typer.Option(
            "--plan",
            help="Also print each device's read plan: the requests one poll cycle sends.",
        ),
    ] = False,
) -> None:
    """Validate a station config and report every problem with its line.

    Exit status: 0 valid, 1 invalid (each problem printed to stderr as
    FILE:LINE LOCATION: MESSAGE), 2 for two different files.
    """
    from pstg.config.errors import ConfigError
    from pstg.drivers.planner import plan_device
    from pstg.station import load_station

    if file is not None and config is not None and file != config:
        raise typer.BadParameter(
            f"two files given, {file} and -c {config}: give one", param_hint="FILE, -c"
        )
    file = file or config or Path("station.yaml")

    with one_line_errors():
        try:
            station = load_station(file)
        except ConfigError as exc:
            for problem in exc.problems:
                stderr.print(str(problem), markup=False, emoji=False)
            fail(f"{count(len(exc.problems), 'problem')} in {file}")
        plans = {device.id: plan_device(device) for device in station.devices}
    if plan:
        for device in station.devices:
            _print_plan(device, plans[device.id])
    stdout.print(summary(file, station, plans), markup=False, emoji=False)


def summary(file: Path, station: StationConfig, plans: dict[str, ReadPlan]) -> str:
    """One line: `FILE: OK, station ID: N devices, M tags, K alarms, R read requests per cycle`."""
    devices = station.devices
    disabled = sum(not device.enabled for device in devices)
    tags = sum(len(device.tags) for device in devices)
    # Disabled devices are not polled, so their requests are not part of a cycle.
    requests = sum(len(plans[device.id].blocks) for device in devices if device.enabled)
    device_text = count(len(devices), "device") + (f" ({disabled} disabled)" if disabled else "")
    return (
        f"{file}: OK, station {station.station.id}: {device_text}, {count(tags, 'tag')}, "
        f"{count(len(station.alarms), 'alarm')}, "
        f"{count(requests, 'read request')} per cycle"
    )


def _print_plan(device: DeviceConfig, plan: ReadPlan) -> None:
    from pstg.times import format_duration

    link = device.serial_port if device.driver == "modbus-rtu" else f"{device.host}:{device.port}"
    state = "" if device.enabled else ", disabled"
    stdout.print(
        f"{device.id} ({device.driver} {link} unit {device.unit_id}{state}): "
        f"{count(len(plan.blocks), 'request')} every {format_duration(device.poll_interval)}",
        markup=False,
        emoji=False,
    )
    for line in plan.describe():
        stdout.print(f"  {line}", markup=False, emoji=False)
