"""`pstg seed`: write a station.yaml matched to the simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pstg.cli.app import app, fail, stderr


@app.command()
def seed(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the config.")
    ] = Path("station.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    host: Annotated[str, typer.Option(help="Simulator address the config polls.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Simulator port.")] = 15020,
    unit: Annotated[int, typer.Option(min=1, max=247, help="Simulator unit id.")] = 1,
    database: Annotated[
        str, typer.Option(help="Storage URL written into the config.")
    ] = "sqlite:///pstg.db",
) -> None:
    """Write an example station.yaml that maps every register of `pstg simulate`, with alarms."""
    from pstg.simulator.seed import SeedOptions, seed_config_text

    if output.is_dir():
        output = output / "station.yaml"
    if output.exists() and not force:
        fail(f"{output} exists; use --force to overwrite it")
    text = seed_config_text(SeedOptions(host=host, port=port, unit_id=unit, database_url=database))
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    stderr.print(
        f"wrote {output}; start the simulator with `pstg simulate`, then `pstg run -c {output}`"
    )
