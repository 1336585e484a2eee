"""Database URLs and engines: SQLite (the embedded default) and PostgreSQL.

Users write `sqlite:///pstg.db` or `postgresql://user@127.0.0.1:5432/pstg`; we pick the driver
(psycopg 3 for PostgreSQL, whose COPY the writer uses) and tune SQLite for a historian: WAL so
readers never block the writer, `synchronous=NORMAL` (durable across a process crash; a power
cut may lose the last transaction, which the writer's flush interval bounds anyway) and a busy
timeout so a short lock waits instead of failing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError

from pstg.errors import Invalid
from pstg.files import create_private
from pstg.storage.deadline import PROGRESS_STEPS, interrupt_past_deadline

if TYPE_CHECKING:
    from pstg.config.models import StationConfig

SQLITE_BUSY_TIMEOUT_MS = 5000


class DatabaseUrlError(Invalid):
    """A storage URL that is not one PSTG can use."""


def parse_database_url(url: str, *, relative_to: Path | None = None) -> URL:
    """`url` as SQLAlchemy URL with PSTG's driver choice; a relative SQLite path is taken
    relative to `relative_to` (the config file's folder) when given."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(
            f"{url!r} is not a database URL; use sqlite:///FILE or postgresql://USER@HOST/DB"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.drivername != "sqlite":
            raise DatabaseUrlError(
                f"{url!r}: use plain sqlite:///FILE (driver {parsed.drivername})"
            )
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise DatabaseUrlError(f"{url!r}: SQLite needs a file path, e.g. sqlite:///pstg.db")
        path = Path(database).expanduser()
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        return parsed.set(database=str(path))
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise DatabaseUrlError(
        f"{url!r}: unsupported database {backend!r}; use sqlite:///FILE or postgresql://..."
    )


def database_url(config: StationConfig, config_path: Path) -> URL:
    """The config's storage URL; a relative SQLite path is relative to the config file."""
    return parse_database_url(config.storage.url, relative_to=config_path.parent)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def describe(url: URL) -> str:
    """The URL for messages, without a password."""
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{url.database}"
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


def create_engine(
    url: URL | str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, **kwargs: Any
) -> Engine:
    """An engine for `url` (already parsed, or a raw string taken relative to the CWD).

    `busy_timeout_ms`: how long a SQLite write waits for another process's lock to clear.
    """
    if isinstance(url, str):
        url = parse_database_url(url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        # The database holds the JWT secret and password hashes: readable by its owner only.
        # SQLite gives the -wal and -shm files the mode of the database file.
        create_private(Path(url.database))
        engine = sa.create_engine(url, **kwargs)

        def tune(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            # A request's statements stop at its deadline (pstg.storage.deadline).
            dbapi_connection.set_progress_handler(interrupt_past_deadline, PROGRESS_STEPS)

        sa.event.listen(engine, "connect", tune)
        return engine
    # JIT compilation costs PostgreSQL 15-130 ms on the larger trend queries and gains
    # nothing on them: off for PSTG's connections.
    connect_args = {"options": "-c jit=off", **kwargs.pop("connect_args", {})}
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
