"""Which database a command works on: `--database URL`, or the storage URL of `-c FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pstg.cli.app import fail
from pstg.cli.config_option import load_or_fail

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.engine import URL, Engine

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
    from pstg.storage.database import DatabaseUrlError, database_url, parse_database_url

    try:
        if database is not None:
            return parse_database_url(database)
        path = config or Path("station.yaml")
        if config is None and not path.exists():
            fail("no database given: use --database URL or -c station.yaml")
        return database_url(load_or_fail(path), path)
    except DatabaseUrlError as exc:
        fail(str(exc))


def open_database(url: URL) -> Engine:
    """An engine on `url` after checking the database is reachable and at the current schema."""
    import sqlalchemy as sa

    from pstg.storage.database import create_engine, describe
    from pstg.storage.migrate import SchemaOutOfDate, check_current

    where = describe(url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        # create_engine would make an empty file (and folders) for a mistyped path.
        fail(f"{where}: no such database file (`pstg migrate` creates one)")
    engine = create_engine(url)
    try:
        check_current(engine, where)
    except SchemaOutOfDate as exc:
        engine.dispose()
        fail(str(exc))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        fail(f"cannot open the database {where}: {str(exc.orig).strip().splitlines()[0]}")
    return engine


def time_bounds(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    """`--from` and `--to` (RFC 3339 or now-1h), each optional; a one-line failure when one is
    malformed or the range is empty."""
    from pstg.model import utc_now
    from pstg.storage.transfer import TransferError, parse_time_bound

    now = utc_now()
    bounds: list[datetime | None] = []
    for option, text in (("--from", start), ("--to", end)):
        try:
            bounds.append(None if text is None else parse_time_bound(text, now))
        except TransferError as exc:
            fail(f"{option}: {exc}")
    low, high = bounds
    if low is not None and high is not None and low >= high:
        fail(f"--from {start} is not before --to {end}: the range is empty (--to is exclusive)")
    return low, high
