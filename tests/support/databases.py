"""The real PostgreSQL on 127.0.0.1:5432 for tests, or a visible skip where there is none.

Each test run creates its own database (`pstg_test_<pid>_<random>`) and drops it at the end;
each test starts from an empty `public` schema in it. Without a reachable server the
PostgreSQL half of the suite is skipped with the reason, unless PSTG_REQUIRE_POSTGRES=1 (CI
sets it), which turns that skip into a failure.
"""

from __future__ import annotations

import os
import secrets

import pytest
import sqlalchemy as sa

from pstg.storage.database import create_engine

SERVER_URL = os.environ.get("PSTG_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE = os.environ.get("PSTG_REQUIRE_POSTGRES") == "1"


def unavailable_reason() -> str | None:
    try:
        engine = create_engine(SERVER_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        engine.dispose()
    except sa.exc.OperationalError as exc:
        return f"PostgreSQL at {SERVER_URL} is not reachable: {str(exc.orig).strip()}"
    return None


def skip_or_fail(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"PSTG_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


class ScratchDatabase:
    """A database of its own on the test server, dropped by `drop()`."""

    def __init__(self) -> None:
        self.name = f"pstg_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.server = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
        with self.server.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
        self.url = (
            sa.make_url(SERVER_URL).set(database=self.name).render_as_string(hide_password=False)
        )

    def reset(self) -> None:
        """An empty public schema, as a fresh database would have."""
        engine = create_engine(self.url)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()

    def drop(self) -> None:
        with self.server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.server.dispose()
