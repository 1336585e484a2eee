"""`pstg simulate`: the pump station simulator as a Modbus TCP server, until a signal."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pstg.cli.app import app, fail, one_line_errors, options, stderr
from pstg.cli.errors import exit_code
from pstg.cli.time_options import DURATION_METAVAR, TIME_METAVAR, duration_value, instant_value

# Needed for --scenario's help text when the command is declared. Light: the pure-Python
# process model and pstg.times; no pymodbus, no server.
from pstg.errors import Invalid
from pstg.simulator.scenarios import SCENARIO_NAMES
from pstg.times import format_instant

if TYPE_CHECKING:
    from pstg.simulator.runner import Simulator, SimulatorOptions

log = logging.getLogger("pstg.simulator")


@app.command()
def simulate(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="TCP port (station n: port + n - 1).")
    ] = 15020,
    unit: Annotated[int, typer.Option(min=1, max=247, help="Unit id to answer as.")] = 1,
    units: Annotated[
        str | None,
        typer.Option(help="Several unit ids, each its own station model: 1,2,3 or 1-8."),
    ] = None,
    stations: Annotated[
        int, typer.Option(min=1, max=1000, help="Stations on consecutive ports, for load tests.")
    ] = 1,
    scenario: Annotated[
        str,
        typer.Option(
            help=f"Scenario: one of {', '.join(SCENARIO_NAMES)}; a process scenario and a "
            "link fault may be combined (storm,flaky); offline:2m sets the offline period."
        ),
    ] = "normal",
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same run.")] = 1,
    speed: Annotated[
        float,
        typer.Option(min=0.001, help="Simulated seconds per wall second (60: an hour a minute)."),
    ] = 1.0,
    start: Annotated[
        datetime | None,
        typer.Option(
            parser=instant_value,
            metavar=TIME_METAVAR,
            help="Simulated start time: RFC 3339 with an offset (2026-03-02T06:00Z) or "
            "now-1d (default: now).",
        ),
    ] = None,
    control_file: Annotated[
        Path | None,
        typer.Option(
            help="File to switch the scenario while running: write a scenario name into it."
        ),
    ] = None,
    status_every: Annotated[
        float,
        typer.Option(
            parser=duration_value,
            metavar=DURATION_METAVAR,
            help="Time between status lines on stderr: 10s, 1m (0: none).",
        ),
    ] = 10.0,
    duration: Annotated[
        float | None,
        typer.Option(
            parser=duration_value,
            metavar=DURATION_METAVAR,
            help="Stop after this long: 30s, 5m, or seconds (default: until SIGINT/SIGTERM).",
        ),
    ] = None,
) -> None:
    """Run the pump station simulator: a lift station process behind a Modbus TCP server.

    The register map is in docs/simulator.md; `pstg seed` writes a station.yaml that reads it.
    """
    from pstg.simulator.runner import SimulatorOptions, units_from_text
    from pstg.simulator.scenarios import parse_scenario

    try:
        chosen = parse_scenario(scenario)
        unit_ids = units_from_text(units) if units is not None else (unit,)
        settings = SimulatorOptions(
            host=host,
            port=port,
            units=unit_ids,
            stations=stations,
            scenario=chosen,
            seed=seed,
            speed=speed,
            start=(start or datetime.now(UTC)).replace(microsecond=0),
            control_file=control_file,
        )
    except ValueError as exc:
        fail(str(exc), exit_code(Invalid))
    if not options.debug:
        # pymodbus logs each client that goes away mid-request as an error; the simulator
        # causes that on purpose.
        logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    with one_line_errors():
        asyncio.run(_serve(settings, status_every=status_every, duration=duration))


async def _serve(
    settings: SimulatorOptions, *, status_every: float, duration: float | None
) -> None:
    from pstg.simulator.runner import Simulator
    from pstg.simulator.server import ListenError

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        simulator = Simulator(settings)
        await simulator.start()
    except ListenError as exc:
        fail(str(exc))
    try:
        _announce(simulator)
        status = asyncio.create_task(_status_lines(simulator, status_every))
        try:
            await asyncio.wait_for(stop.wait(), timeout=duration)
        except TimeoutError:
            pass
        finally:
            status.cancel()
            await asyncio.gather(status, return_exceptions=True)
    finally:
        await simulator.stop()
    stderr.print("simulator stopped")


def _announce(simulator: Simulator) -> None:
    settings = simulator.options
    ports = simulator.ports
    where = (
        f"{settings.host}:{ports[0]}"
        if len(ports) == 1
        else (f"{settings.host}:{ports[0]}-{ports[-1]}")
    )
    units = ",".join(str(u) for u in settings.units)
    stderr.print(
        f"simulating {len(simulator.units)} station model(s) on {where}, unit id(s) {units}; "
        f"scenario {simulator.scenario}, seed {settings.seed}, speed {settings.speed:g}x, "
        f"simulated time from {format_instant(settings.start or simulator.stations[0].time)}; "
        "Ctrl-C to stop"
    )
    if settings.control_file is not None:
        stderr.print(f"switch scenarios by writing a name into {settings.control_file}")


async def _status_lines(simulator: Simulator, every: float) -> None:
    if every <= 0:
        return
    while True:
        await asyncio.sleep(every)
        station = simulator.stations[0]
        running = [str(p.number) for p in station.pumps if p.running] or ["none"]
        alarms = "ALARM" if station.common_alarm else "ok"
        log.info(
            "%s [%s] level %.2f m, inflow %.1f l/s, outflow %.1f l/s, pumps running: %s, %s",
            station.time.strftime("%Y-%m-%d %H:%M:%S"),
            simulator.scenario,
            station.level,
            station.inflow * 1000,
            station.outflow * 1000,
            ",".join(running),
            alarms,
        )
