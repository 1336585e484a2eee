"""`pstg export`: samples as CSV or JSON Lines, to stdout or a file (see docs/export-import.md)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from pstg.cli.app import app, fail, one_line_errors, stderr
from pstg.cli.database_option import (
    ConfigOption,
    DatabaseChoice,
    DatabaseOption,
    choose_database,
    open_database,
    sync_config_catalog,
)
from pstg.cli.errors import exit_code
from pstg.cli.text import count
from pstg.cli.time_options import TIME_METAVAR, time_bounds
from pstg.errors import NotFound
from pstg.storage.transfer.formats import Format

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from pstg.storage.transfer.export import ExportRow

StationOption = Annotated[
    str | None,
    typer.Option(
        "--station",
        help="Station id whose tags to use (default: the station of -c FILE, else every one).",
    ),
]
PROGRESS_EVERY = 2000


@app.command()
def export(
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag", "-t", metavar="NAME", help="Tag to export (repeatable; default: every tag)."
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar=TIME_METAVAR,
            help="Start, inclusive: RFC 3339 with an offset (2026-05-28T00:00Z) or now-7d.",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--to", metavar=TIME_METAVAR, help="End, exclusive: RFC 3339 or now-1h (docs/times.md)."
        ),
    ] = None,
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="csv or jsonl (default: from the -o suffix, else csv).",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout."),
    ] = None,
    config: ConfigOption = None,
    database: DatabaseOption = None,
    station: StationOption = None,
) -> None:
    """Export samples as CSV or JSON Lines (tag,ts,value,quality,reason), by tag then time.

    With -c FILE the database's catalog is first brought in line with the config (as `pstg run`
    does at start), and --station defaults to the config's station.
    """
    from pstg.storage.transfer.export import count_rows, export_rows
    from pstg.storage.transfer.writers import WRITERS

    low, high = time_bounds(start, end)
    chosen = fmt or (output and Format.of_path(output)) or Format.CSV
    if output is not None and not output.parent.is_dir():
        fail(f"cannot write {output}: no folder {output.parent}", exit_code(NotFound))
    choice = choose_database(config, database)
    station = station_of(choice, station)
    with one_line_errors():
        engine = open_synced_database(choice)
        try:
            rows = export_rows(engine, tags=tag, start=low, end=high, station=station)
            total = None
            # A bar on a terminal that also shows the data would tear the rows apart.
            if stderr.is_terminal and (output is not None or not sys.stdout.isatty()):
                total = count_rows(engine, tags=tag, start=low, end=high, station=station)
            tally = _Tally()
            with progress_bar("exporting", total) as advance:
                written = _write(WRITERS[chosen], tally.count(rows, advance), output)
        finally:
            engine.dispose()
    where = str(output) if output is not None else "stdout"
    stderr.print(
        f"exported {count(written, 'sample')} of {count(tally.tags, 'tag')} to {where}",
        markup=False,
    )


def station_of(choice: DatabaseChoice, station: str | None) -> str | None:
    """--station, else the station of the config that chose the database (its tag names are
    the ones a user means), else None: every station."""
    if station is not None or choice.station is None:
        return station
    return choice.station.station.id


def open_synced_database(choice: DatabaseChoice) -> Engine:
    """The chosen database, checked, with the config's stations, devices and tags in its
    catalog, so a freshly migrated database already knows them."""
    engine = open_database(choice)
    try:
        sync_config_catalog(choice, engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


class _Tally:
    """Counts the rows and distinct tags flowing to the writer."""

    def __init__(self) -> None:
        self.tags = 0
        self._last: str | None = None

    def count(
        self, rows: Iterable[ExportRow], advance: Callable[[int], None]
    ) -> Iterator[ExportRow]:
        pending = 0
        for row in rows:
            if row.tag != self._last:
                self._last = row.tag
                self.tags += 1
            pending += 1
            if pending == PROGRESS_EVERY:
                advance(pending)
                pending = 0
            yield row
        advance(pending)


@contextlib.contextmanager
def progress_bar(what: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """An `advance(count)` for a progress bar on stderr; a no-op when `total` is None."""
    if total is None:
        yield lambda _count: None
        return
    from rich.progress import Progress

    with Progress(console=stderr, transient=True) as progress:
        task = progress.add_task(what, total=total)
        yield lambda count: progress.advance(task, count)


def _write(
    writer: Callable[[Iterable[ExportRow], TextIO], int],
    rows: Iterable[ExportRow],
    output: Path | None,
) -> int:
    if output is None:
        return _write_stdout(writer, rows)
    # Written beside the target and renamed at the end: a failed export leaves no half file.
    temporary = output.with_name(f".{output.name}.{os.getpid()}.part")
    try:
        with temporary.open("x", encoding="utf-8", newline="") as out:
            count = writer(rows, out)
        temporary.replace(output)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return count


def _write_stdout(
    writer: Callable[[Iterable[ExportRow], TextIO], int], rows: Iterable[ExportRow]
) -> int:
    out = sys.stdout
    if isinstance(out, io.TextIOWrapper):
        out.reconfigure(encoding="utf-8", newline="")  # the formats are UTF-8, \n-terminated
    try:
        count = writer(rows, out)
        out.flush()
    except BrokenPipeError:
        # The reader went away (`pstg export | head`): stop quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(1) from None
    return count
