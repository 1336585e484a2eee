"""The Typer application behind `pstg` and the conventions every command shares.

Data goes to stdout, diagnostics to stderr; a failure exits non-zero with a one-line reason
(the exit status from `pstg.cli.errors`' table), and only `pstg --debug ...` shows a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from pstg.cli.errors import FAILURE, exit_code
from pstg.errors import PstgError

app = typer.Typer(
    name="pstg",
    help="PSTG — Pump Station Telemetry Gateway: Modbus polling, time series, alarms.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Click's plain help, not Typer's Rich panels: Typer 0.29's panels show a type column for
    # flags too (`--force <bool>`, as if it took a value) and, in its default "rich" markup
    # mode, keep the docstrings' line breaks, so the help of run and demo broke mid-sentence.
    # The plain formatter rewraps paragraphs and shows a metavar only for options with values.
    # tests/cli/test_help.py renders every command's help and checks both.
    rich_markup_mode=None,
)

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


class _Options:
    debug = False


options = _Options()


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        stdout.print(f"pstg {version('pstg')}", markup=False)
        raise typer.Exit()


@app.callback()
def main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks and debug logging.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """PSTG — Pump Station Telemetry Gateway."""
    options.debug = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    if not debug:
        # Alembic narrates every step at INFO; `pstg migrate` says what happened in one line.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        # httpx logs every request at INFO; the commands that call the API print their steps.
        logging.getLogger("httpx").setLevel(logging.WARNING)


def fail(reason: str, code: int = FAILURE) -> NoReturn:
    """Print a one-line reason to stderr and exit with `code` (non-zero)."""
    # The reason is text, not markup: "[/dev/ttyUSB0, unit 1]" must print as it is.
    stderr.print(f"[bold red]error:[/] {escape(reason)}", markup=True)
    raise typer.Exit(code)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn exceptions into a one-line reason unless --debug is on: a domain error
    (`pstg.errors`) prints its message and exits with its code from `pstg.cli.errors`; any
    other exception is unexpected and says its type."""
    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except PstgError as exc:
        if options.debug:
            raise
        fail(exc.message, exit_code(exc))
    except Exception as exc:
        if options.debug:
            raise
        fail(f"{type(exc).__name__}: {exc}")
