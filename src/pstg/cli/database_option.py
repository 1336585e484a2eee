"""Which database a command works on: `--database URL`, or the storage URL of `-c FILE`.

The choice remembers how it was made, so every hint names the exact command to type next
(`pstg migrate -c site/station.yaml`, not a bare `pstg migrate` that would look for
./station.yaml).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pstg.cli.app import fail
from pstg.cli.config_option import load_or_fail
from pstg.cli.errors import exit_code

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

    from pstg.config.models import StationConfig
    from pstg.storage.migrate import SchemaOutOfDate

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
DEFAULT_CONFIG = Path("station.yaml")


@dataclass(frozen=True)
class DatabaseChoice:
    """The database the options chose, and how to choose it again."""

    url: URL
    options: str
    """`-c FILE` or `--database URL` (password hidden), shell-quoted, as a hint repeats them."""
    station: StationConfig | None
    """The config given with -c (or ./station.yaml when it chose the database), else None."""

    def command(self, words: str) -> str:
        """`pstg WORDS` with the options that choose this database, e.g. for a hint."""
        return f"pstg {words} {self.options}"


def choose_database(config: Path | None, database: str | None) -> DatabaseChoice:
    """The database chosen by the options, or a one-line failure."""
    from pstg.errors import Invalid
    from pstg.storage.database import (
        DatabaseUrlError,
        database_url,
        describe,
        parse_database_url,
    )

    try:
        if database is not None:
            url = parse_database_url(database)
            station = None if config is None else load_or_fail(config)
            return DatabaseChoice(url, f"--database {shlex.quote(describe(url))}", station)
        path = config or DEFAULT_CONFIG
        if config is None and not path.exists():
            fail(
                f"no database given and no {DEFAULT_CONFIG} here: use -c FILE or --database URL",
                exit_code(Invalid),
            )
        station = load_or_fail(path)
        return DatabaseChoice(database_url(station, path), f"-c {shlex.quote(str(path))}", station)
    except DatabaseUrlError as exc:
        fail(str(exc), exit_code(exc))


def resolve_database(config: Path | None, database: str | None) -> URL:
    """The database URL chosen by the options, or a one-line failure."""
    return choose_database(config, database).url


def open_database(choice: DatabaseChoice) -> Engine:
    """An engine on the chosen database after checking it is reachable and at the current
    schema; a one-line failure naming the command that fixes it otherwise."""
    import sqlalchemy as sa

    from pstg.errors import NotFound, Unavailable
    from pstg.storage.database import create_engine, describe
    from pstg.storage.migrate import SchemaOutOfDate, check_current

    url = choice.url
    where = describe(url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        # create_engine would make an empty file (and folders) for a mistyped path.
        fail(
            f"{where}: no such database file (`{choice.command('migrate')}` creates one)",
            exit_code(NotFound),
        )
    engine = create_engine(url)
    try:
        check_current(engine, where)
    except SchemaOutOfDate as exc:
        engine.dispose()
        fail(schema_advice(exc, choice.command("migrate")), exit_code(exc))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0]
        fail(f"cannot open the database {where}: {reason}", exit_code(Unavailable))
    return engine


def schema_advice(exc: SchemaOutOfDate, migrate: str, *, also: str = "") -> str:
    """The schema problem with the exact command that solves it (`migrate`), when one does."""
    if not exc.migratable:
        return exc.message
    return f"{exc.reason}: run `{migrate}` first{also}"


def sync_config_catalog(choice: DatabaseChoice, engine: Engine) -> None:
    """Bring the database's stations, devices and tags in line with the chosen config (as
    `pstg run` does at start), so tags a fresh database lacks exist; nothing without a config.
    """
    if choice.station is None:
        return
    from pstg.storage.catalog import sync_catalog

    sync_catalog(engine, choice.station)
