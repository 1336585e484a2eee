"""`pstg run`: the service. For now the collector: poll every device and log what it reads.

Storage, alarms and the API join this process in later stages; the start-up order stays
config -> drivers -> poller -> consumers, and shutdown runs it backwards.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Annotated

import typer

from pstg.cli.app import app, fail, one_line_errors, stderr
from pstg.cli.config_option import load_or_fail
from pstg.config.models import StationConfig
from pstg.model import Event, Quality, Sample
from pstg.poller.output import PollOutput
from pstg.poller.service import Poller

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
    """Run the gateway: poll every device of the station and log samples and link events."""
    station = load_or_fail(config)
    if not any(device.enabled for device in station.devices):
        fail(f"{config}: no enabled devices to poll")
    with one_line_errors():
        asyncio.run(_serve(station_config=station, duration=duration, quiet=quiet))


async def _serve(*, station_config: StationConfig, duration: float | None, quiet: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    output = PollOutput()
    async with Poller(station_config, output) as poller:
        stderr.print(
            f"polling {len(poller.loops)} device(s) of station {station_config.station.id}; "
            "Ctrl-C to stop"
        )
        consumers = [
            asyncio.create_task(_log_samples(output, quiet)),
            asyncio.create_task(_log_events(output)),
        ]
        try:
            await asyncio.wait_for(stop.wait(), timeout=duration)
        except TimeoutError:
            pass
        finally:
            for task in consumers:
                task.cancel()
            await asyncio.gather(*consumers, return_exceptions=True)
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(signum)
    stderr.print("stopped")


async def _log_samples(output: PollOutput, quiet: bool) -> None:
    last_quality: dict[str, Quality] = {}
    while True:
        batch = await output.samples.get()
        for sample in batch:
            changed = last_quality.get(sample.tag) is not sample.quality
            last_quality[sample.tag] = sample.quality
            if quiet and not changed:
                continue
            log.info("%s", format_sample(sample))


async def _log_events(output: PollOutput) -> None:
    while True:
        event: Event = await output.events.get()
        log.warning("event %s %s: %s", event.kind.value, event.source, event.message)


def format_sample(sample: Sample) -> str:
    value = "-" if sample.value is None else sample.value
    reason = f" ({sample.reason.value})" if sample.reason.value else ""
    ts = sample.ts.isoformat(timespec="milliseconds")
    return f"{ts} {sample.tag}={value} {sample.quality.value}{reason}"
