"""The reads a credential check needs, made on the event loop instead of in a worker thread.

Every request the API answers checks its token or session against the database, so that a
role change, a disabled user or a revoked token applies at the very next request. Handing
that read to a worker thread cost more than the read: two thread switches under the GIL per
request, about half the CPU of a `/api/v1/tags` answered from memory. The reads are one row
by primary or unique key, so they are made where the request is:

- SQLite: a connection of its own, read-only, that never waits for a lock (busy timeout 0).
  In WAL mode a reader does not wait for writers; the rare busy answer (a checkpoint
  resetting the log) gives way to the worker-thread path.
- PostgreSQL: an asynchronous psycopg connection of its own (autocommit), so the loop goes
  on while the query is out. One read at a time; checks of the same credential that arrive
  while a read waits its turn share it (each arrived before it was sent, so each sees what
  its own read would). Each read has a time limit; a failed or slow connection is closed,
  gives way to the worker-thread path, and is not tried again for `RETRY_AFTER_S`.

The statements are the same SQLAlchemy selects the worker-thread path runs, compiled once
for the engine's dialect; they name their parameters with `sa.bindparam`.

`fetch` raises `ReadUnavailable` for "not here, not now": the caller then takes the usual
path, which gives the same answer.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)

READ_TIMEOUT_S = 2.0
"""A PostgreSQL read that takes longer gives way to the worker-thread path."""
RETRY_AFTER_S = 5.0
"""After a failed PostgreSQL connection, requests take the worker-thread path this long
before the next attempt (not one connection attempt per request while the database is away)."""


class ReadUnavailable(Exception):
    """The read cannot be made on the loop now; take the worker-thread path."""


@dataclass(frozen=True)
class _Compiled:
    sql: str
    columns: tuple[str, ...]
    positions: tuple[str, ...] | None
    """SQLite: the parameter names in the order of the `?` marks; PostgreSQL: None (named)."""


class LoopReads:
    """One-row reads for `engine`, on the running event loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._compiled: dict[sa.Select[Any], _Compiled] = {}
        self._sqlite: tuple[int, sqlite3.Connection] | None = None
        self._postgres: _Postgres | None = None
        self._retry_at = 0.0
        sa.event.listen(engine, "engine_disposed", lambda _engine: self.close())

    async def fetch(self, statement: sa.Select[Any], **params: object) -> SimpleNamespace | None:
        """The one row `statement` selects with `params` (attributes named like its
        columns), None when there is none; ReadUnavailable when it cannot be read here."""
        compiled = self._compile(statement)
        if self.dialect == "sqlite":
            values = self._sqlite_row(compiled, params)
        elif self.dialect == "postgresql":
            values = await self._postgres_row(compiled, params)
        else:
            raise ReadUnavailable(self.dialect)
        if values is None:
            return None
        return SimpleNamespace(**dict(zip(compiled.columns, values, strict=True)))

    def close(self) -> None:
        """Close both connections (from any thread; the engine's dispose calls it)."""
        if self._sqlite is not None:
            self._sqlite[1].close()
            self._sqlite = None
        if self._postgres is not None and self._postgres.connection is not None:
            _close_postgres(self._postgres.connection)
            self._postgres.connection = None

    def _compile(self, statement: sa.Select[Any]) -> _Compiled:
        # Keyed by the statement itself (identity): the callers pass module constants, one
        # entry each; an id() could be reused by another statement once one is collected.
        compiled = self._compiled.get(statement)
        if compiled is None:
            done = statement.compile(dialect=self.engine.dialect)
            positions = tuple(done.positiontup) if done.positiontup is not None else None
            columns = tuple(statement.selected_columns.keys())
            compiled = self._compiled[statement] = _Compiled(str(done), columns, positions)
        return compiled

    def _sqlite_row(self, compiled: _Compiled, params: dict[str, object]) -> tuple[Any, ...] | None:
        connection = self._sqlite_connection()
        assert compiled.positions is not None
        try:
            row: tuple[Any, ...] | None = connection.execute(
                compiled.sql, tuple(params[name] for name in compiled.positions)
            ).fetchone()
        except sqlite3.Error as exc:  # busy, locked, or the file went away
            raise ReadUnavailable(str(exc)) from None
        return row

    def _sqlite_connection(self) -> sqlite3.Connection:
        # A connection per thread: an app served by a test client runs its loop in a thread
        # of its own, one after another.
        thread = threading.get_ident()
        if self._sqlite is not None and self._sqlite[0] == thread:
            return self._sqlite[1]
        if self._sqlite is not None:
            self._sqlite[1].close()
            self._sqlite = None
        path = self.engine.url.database
        try:
            # mode=rw: never create a database that is not there.
            connection = sqlite3.connect(
                f"file:{path}?mode=rw", uri=True, timeout=0, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            connection.execute("PRAGMA query_only=1")
        except sqlite3.Error as exc:
            raise ReadUnavailable(str(exc)) from None
        self._sqlite = (thread, connection)
        return connection

    async def _postgres_row(
        self, compiled: _Compiled, params: dict[str, object]
    ) -> tuple[Any, ...] | None:
        state = self._postgres_state()
        key = (compiled.sql, tuple(sorted(params.items())))
        waiting = state.waiting.get(key)
        if waiting is None:
            waiting = state.waiting[key] = state.loop.create_future()
            waiting.add_done_callback(_retrieve)
            reader = asyncio.create_task(self._read(state, key, compiled, params, waiting))
            state.readers.add(reader)
            reader.add_done_callback(state.readers.discard)
        return await asyncio.shield(waiting)

    def _postgres_state(self) -> _Postgres:
        loop = asyncio.get_running_loop()
        if self._postgres is None or self._postgres.loop is not loop:
            if self._postgres is not None and self._postgres.connection is not None:
                _close_postgres(self._postgres.connection)  # of a loop that has ended (tests)
            self._postgres = _Postgres(loop)
        return self._postgres

    async def _read(
        self,
        state: _Postgres,
        key: object,
        compiled: _Compiled,
        params: dict[str, object],
        answer: asyncio.Future[tuple[Any, ...] | None],
    ) -> None:
        """One read on the connection, for every request that asked for the same row before
        it was sent (a check that joined it arrived before the read: it sees what is
        committed by then, as a read of its own would)."""
        async with state.lock:  # one read at a time on the connection
            del state.waiting[key]  # who asks from now on waits for a read of its own
            try:
                connection = await self._connection(state)
                async with asyncio.timeout(READ_TIMEOUT_S):
                    cursor = await connection.execute(compiled.sql, params)
                    row: tuple[Any, ...] | None = await cursor.fetchone()
            except ReadUnavailable as exc:
                answer.set_exception(exc)
                return
            except (TimeoutError, psycopg.Error, OSError) as exc:
                # Cut short mid-query, the connection's state is unknown: start afresh later.
                self._drop(state, exc)
                answer.set_exception(ReadUnavailable(str(exc)))
                return
        answer.set_result(row)

    async def _connection(self, state: _Postgres) -> psycopg.AsyncConnection[Any]:
        if state.connection is not None:
            return state.connection
        if time.monotonic() < self._retry_at:
            raise ReadUnavailable("the last connection attempt failed")
        url = self.engine.url.set(drivername="postgresql")
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                state.connection = await psycopg.AsyncConnection.connect(
                    url.render_as_string(hide_password=False),
                    autocommit=True,
                    application_name="pstg credential reads",
                )
        except (TimeoutError, psycopg.Error, OSError) as exc:
            self._retry_at = time.monotonic() + RETRY_AFTER_S
            logger.info("credential reads go through worker threads for now: %s", exc)
            raise ReadUnavailable(str(exc)) from None
        return state.connection

    def _drop(self, state: _Postgres, why: BaseException) -> None:
        if state.connection is not None:
            _close_postgres(state.connection)
            state.connection = None
        self._retry_at = time.monotonic() + RETRY_AFTER_S
        logger.info("credential reads go through worker threads for now: %r", why)


@dataclass
class _Postgres:
    """The PostgreSQL side on one event loop."""

    loop: asyncio.AbstractEventLoop
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    connection: psycopg.AsyncConnection[Any] | None = None
    waiting: dict[object, asyncio.Future[tuple[Any, ...] | None]] = field(default_factory=dict)
    """Reads asked for and not yet sent, by statement and parameters: who asks the same
    joins them."""
    readers: set[asyncio.Task[None]] = field(default_factory=set)


def _retrieve(answer: asyncio.Future[Any]) -> None:
    """Every check that waited may have been cancelled: the answer's failure is no news."""
    if not answer.cancelled():
        answer.exception()


def _close_postgres(connection: psycopg.AsyncConnection[Any]) -> None:
    """Close without awaiting (from any thread, or after its loop has ended): libpq's own
    close, which a psycopg connection then reports as closed."""
    connection.pgconn.finish()
