"""Scratch databases for the storage benchmarks: a SQLite file in a temp folder, and a
database of its own on the local PostgreSQL (created here, dropped at the end)."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import sqlalchemy as sa

from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade

POSTGRES_SERVER = os.environ.get(
    "PSTG_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = create_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@contextmanager
def empty_postgres_database(server_url: str = POSTGRES_SERVER) -> Iterator[str]:
    """A new database without tables on the server of `server_url` (its database part is only
    where to connect for CREATE/DROP DATABASE), dropped at the end even with clients left."""
    name = f"pstg_bench_{os.getpid()}_{secrets.token_hex(3)}"
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


@contextmanager
def postgres_database() -> Iterator[str]:
    with empty_postgres_database() as url:
        engine = create_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


def backends(which: str) -> list[tuple[str, Callable[[], AbstractContextManager[str]]]]:
    chosen: list[tuple[str, Callable[[], AbstractContextManager[str]]]] = []
    if which in ("all", "sqlite"):
        chosen.append(("SQLite", sqlite_database))
    if which in ("all", "postgresql"):
        chosen.append(("PostgreSQL", postgres_database))
    return chosen
