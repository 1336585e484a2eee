"""Which database a command works on: `--database URL`, or the storage URL of `-c FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pstg.cli.app import fail
from pstg.cli.config_option import load_or_fail

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Station config whose storage URL to use (default: station.yaml)."
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Database URL (sqlite:///FILE or postgresql://USER@HOST/DB); overrides --config.",
    ),
]


def resolve_database(config: Path | None, database: str | None) -> URL:
    """The database URL chosen by the options, or a one-line failure."""
    from pstg.storage.database import DatabaseUrlError, parse_database_url

    try:
        if database is not None:
            return parse_database_url(database)
        path = config or Path("station.yaml")
        if config is None and not path.exists():
            fail("no database given: use --database URL or -c station.yaml")
        # A relative SQLite path in a config file is relative to that file.
        return parse_database_url(load_or_fail(path).storage.url, relative_to=path.parent)
    except DatabaseUrlError as exc:
        fail(str(exc))
