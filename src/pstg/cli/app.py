"""The Typer application behind `pstg` and the conventions every command shares.

Data goes to stdout, diagnostics to stderr; a failure exits non-zero with a one-line reason,
and only `pstg --debug ...` shows a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer
from rich.console import Console

app = typer.Typer(
    name="pstg",
    help="PSTG — Pump Station Telemetry Gateway: Modbus polling, time series, alarms.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


class _Options:
    debug = False


options = _Options()


@app.callback()
def main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks and debug logging.")
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


def fail(reason: str, code: int = 1) -> NoReturn:
    """Print a one-line reason to stderr and exit non-zero."""
    from rich.markup import escape

    # The reason is plain text: "[/dev/ttyUSB0, unit 1]" must not be read as a markup tag.
    stderr.print(f"[bold red]error:[/] {escape(reason)}", markup=True)
    raise typer.Exit(code)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn unexpected exceptions into a one-line reason unless --debug is on."""
    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        if options.debug:
            raise
        fail(f"{type(exc).__name__}: {exc}")
