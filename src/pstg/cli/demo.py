"""`pstg demo`: the newcomer's one command — simulator, database, collector and API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from pstg.cli.app import app, fail, one_line_errors, stderr
from pstg.cli.time_options import DURATION_METAVAR, duration_value


@app.command()
def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Folder for the demo's config, database and spool.")
    ] = Path("pstg-demo"),
    port: Annotated[int, typer.Option(min=1, max=65535, help="API port on 127.0.0.1.")] = 8000,
    simulator_port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port of the simulated station's Modbus server.")
    ] = 15020,
    speed: Annotated[
        float, typer.Option(min=0.1, help="Simulated seconds per second (10: ten times faster).")
    ] = 10.0,
    duration: Annotated[
        float | None,
        typer.Option(
            parser=duration_value,
            metavar=DURATION_METAVAR,
            help="Stop after this long: 30s, 5m, or seconds (default: until Ctrl-C).",
        ),
    ] = None,
) -> None:
    """Try PSTG in one command: a simulated pump station, polled, stored and served.

    Starts the pump station simulator on 127.0.0.1, creates a SQLite database in --dir, writes
    the matching station.yaml, creates the user `admin` with a new random password, and runs
    the gateway with its web console and API on http://127.0.0.1:PORT. Prints the console's URL
    first, the credentials, three curl commands and a pstg command to try.
    """
    from pstg.demo import curl_examples, prepare

    with one_line_errors():
        setup = prepare(folder, api_port=port, simulator_port=simulator_port)
    from pstg.cli.run import start_logging

    logs = start_logging("warning", "text")  # the banner matters; events at warning and up
    base = f"http://127.0.0.1:{port}"
    lines = [
        "",
        f"PSTG demo: open the console at {base}/",
        f"  user: {setup.username}   password: {setup.password}",
        f"  API and its docs at {base}/docs",
        f"  config: {setup.config_path}   (station simulated on 127.0.0.1:{simulator_port})",
        "  try:",
        *(f"    {line}" for line in curl_examples(base, setup.username, setup.password)),
        "  command (select, operate, read-back; docs/commands.md):",
        f"    uv run pstg login --url {base} -u {setup.username}",
        f"    uv run pstg command pump2.hoa Auto --url {base}",
        "",
    ]
    try:
        with one_line_errors():
            asyncio.run(_run(setup.config_path, simulator_port, speed, duration, "\n".join(lines)))
    finally:
        logs.stop()


async def _run(
    config_path: Path, simulator_port: int, speed: float, duration: float | None, banner: str
) -> None:
    from pstg.cli.run import open_gateway_or_fail, serve
    from pstg.simulator.runner import Simulator, SimulatorOptions
    from pstg.simulator.server import ListenError
    from pstg.station import load_station

    try:
        simulator = Simulator(SimulatorOptions(port=simulator_port, speed=speed))
        await simulator.start()
    except ListenError as exc:
        fail(f"{exc} (choose another with --simulator-port)")
    try:
        config = load_station(config_path)
        # The demo rewrites its station.yaml at each start: the port to change is --port.
        gateway = await asyncio.to_thread(
            open_gateway_or_fail,
            config,
            config_path,
            serve_api=True,
            api_port_setting="choose another with --port",
        )
        await serve(gateway, duration=duration, banner=banner)
    finally:
        await simulator.stop()
    stderr.print("demo stopped")
