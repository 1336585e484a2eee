"""What every command shares: `pstg --version`, the one-line error handler and its exit codes
from the one table in pstg.cli.errors."""

from __future__ import annotations

from importlib.metadata import version

import pytest
import typer
from typer.testing import CliRunner

from pstg.cli import app
from pstg.cli.app import one_line_errors
from pstg.cli.errors import EXIT_CODES, FAILURE, exit_code
from pstg.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PstgError,
    TooLarge,
    Unauthenticated,
    Unavailable,
)
from pstg.storage.migrate import SchemaOutOfDate
from pstg.storage.transfer.errors import AmbiguousTag, UnknownTag
from pstg.times import InvalidDuration


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"pstg {version('pstg')}\n"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (Invalid, 2),
        (TooLarge, 2),
        (InvalidDuration, 2),
        (AmbiguousTag, 2),
        (NotFound, 10),
        (UnknownTag, 10),
        (Conflict, 11),
        (SchemaOutOfDate, 11),
        (Unavailable, 12),
        (Unauthenticated, 13),
        (Forbidden, 14),
        (PstgError, FAILURE),
    ],
)
def test_each_domain_error_has_its_exit_code(error: type[PstgError], code: int) -> None:
    assert exit_code(error) == code
    # 3-9 are left to commands' own outcomes (pstg poll uses 3-7): no clash.
    assert not set(range(3, 10)) & set(EXIT_CODES.values())


def run_raising(error: Exception) -> tuple[int, str]:
    probe = typer.Typer()

    @probe.command()
    def fails() -> None:
        with one_line_errors():
            raise error

    result = CliRunner().invoke(probe, [])
    return result.exit_code, result.output


def test_the_error_handler_prints_one_line_and_exits_with_the_tables_code() -> None:
    assert run_raising(NotFound("unknown tag 'x' [in ps-01]")) == (
        10,
        "error: unknown tag 'x' [in ps-01]\n",  # a message is text, never markup
    )
    assert run_raising(Unavailable("database down")) == (12, "error: database down\n")
    assert run_raising(RuntimeError("boom")) == (1, "error: RuntimeError: boom\n")
