"""`pstg import`: samples from a CSV or JSON Lines file, every line checked before any is
stored (see docs/export-import.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pstg.cli.app import app, fail, one_line_errors, stderr
from pstg.cli.database_option import ConfigOption, DatabaseOption, choose_database
from pstg.cli.errors import exit_code
from pstg.cli.export import StationOption, open_synced_database, progress_bar, station_of
from pstg.cli.text import count
from pstg.storage.transfer.formats import Format

if TYPE_CHECKING:
    from pstg.storage.transfer.checking import ImportCheck

MAX_PROBLEMS_SHOWN = 50


@app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The CSV or JSON Lines file to import.")
    ],
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="csv or jsonl (default: from the file's suffix).",
        ),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Import the valid lines even if some are invalid."),
    ] = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
    station: StationOption = None,
) -> None:
    """Import samples exported by `pstg export` (or written by hand in the same format).

    Every line is checked first; with an invalid line nothing is imported unless
    --skip-invalid. Samples already stored are skipped, so importing twice is harmless. With
    -c FILE the database's catalog is first brought in line with the config (as `pstg run`
    does at start), so a freshly migrated database takes the config's tags.
    """
    from pstg.errors import Invalid, NotFound
    from pstg.storage.transfer.checking import read_import
    from pstg.storage.transfer.errors import InvalidImport
    from pstg.storage.transfer.importing import import_checked
    from pstg.storage.transfer.tags import TagDirectory

    chosen = fmt or Format.of_path(file)
    if chosen is None:
        fail(
            f"{file}: cannot tell the format from the suffix; use --format csv or jsonl",
            exit_code(Invalid),
        )
    if not file.is_file():
        fail(f"{file}: no such file", exit_code(NotFound))
    choice = choose_database(config, database)
    station = station_of(choice, station)
    with one_line_errors():
        engine = open_synced_database(choice)
        try:
            directory = TagDirectory.load(engine, station)
            check = read_import(file, chosen, directory)
            _print_problems(file, check)
            total = len(check.rows) if stderr.is_terminal else None
            with progress_bar("importing", total) as advance:
                try:
                    result = import_checked(
                        engine, check, skip_invalid=skip_invalid, progress=advance
                    )
                except InvalidImport as exc:
                    fail(f"{file}: {exc}", exit_code(exc))
        finally:
            engine.dispose()
    summary = (
        f"imported {count(result.stored_new, 'new sample')} "
        f"({result.already_present} already present) from {file}"
    )
    if check.problems:
        summary += f"; skipped {count(len(check.problems), 'invalid line')}"
    stderr.print(summary, markup=False)


def _print_problems(file: Path, check: ImportCheck) -> None:
    """Each problem as FILE:LINE: message, the first MAX_PROBLEMS_SHOWN of them."""
    for problem in check.problems[:MAX_PROBLEMS_SHOWN]:
        stderr.print(f"{file}:{problem.line}: {problem.message}", markup=False)
    if len(check.problems) > MAX_PROBLEMS_SHOWN:
        stderr.print(f"... and {len(check.problems) - MAX_PROBLEMS_SHOWN} more", markup=False)
