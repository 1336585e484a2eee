"""One running gateway per station and database.

Two gateways polling one station would journal every alarm twice and report each other's
stops. The first one to start takes a lock, the second refuses and names the holder:

- SQLite: an exclusive `flock` on `<database>.lock`, beside the database; the file says which
  process (PID, host, start time) holds it. The kernel drops the lock when the process dies,
  however it dies, so a crash never leaves a stale lock behind.
- PostgreSQL: a session advisory lock keyed by the station id, held on a connection of its
  own whose `application_name` names the process; PostgreSQL drops it when that session ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import NullPool

from pstg.errors import Conflict

log = logging.getLogger("pstg.service")


class InstanceLocked(Conflict):
    """Another gateway serves this station from this database."""


class InstanceLock(Protocol):
    def release(self) -> None: ...


def who_am_i() -> str:
    return f"PID {os.getpid()} on {socket.gethostname()}"


def acquire(url: URL, station_id: str) -> InstanceLock:
    """The lock for `station_id` in the database at `url`; InstanceLocked when taken."""
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        return FileLock.acquire(Path(url.database + ".lock"), station_id)
    return AdvisoryLock.acquire(url, station_id)


class FileLock:
    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, path: Path, station_id: str) -> FileLock:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise InstanceLocked(
                f"station {station_id} is already served by {holder} (lock file {path})"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        started = datetime.now(UTC).isoformat(timespec="seconds")
        os.write(fd, f"{who_am_i()}, since {started}\n".encode())
        return cls(path, fd)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing drops the flock


def _read_holder(fd: int) -> str:
    with contextlib.suppress(OSError):
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        if text:
            return text
    return "another process"


def advisory_key(station_id: str) -> int:
    """A stable signed 64-bit key for the station (PostgreSQL advisory locks take bigint)."""
    digest = hashlib.sha256(f"pstg-station:{station_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryLock:
    def __init__(self, connection: Connection, engine: sa.Engine, key: int) -> None:
        self._connection: Connection | None = connection
        self._engine = engine
        self.key = key

    @classmethod
    def acquire(cls, url: URL, station_id: str) -> AdvisoryLock:
        name = f"pstg {station_id} {who_am_i()}"[:63]  # PostgreSQL's limit for the name
        engine = sa.create_engine(url, poolclass=NullPool, connect_args={"application_name": name})
        key = advisory_key(station_id)
        connection = engine.connect()
        try:
            got = connection.exec_driver_sql("SELECT pg_try_advisory_lock(%s)", (key,)).scalar()
            connection.commit()
            if not got:
                holder = _advisory_holder(connection, key)
                raise InstanceLocked(f"station {station_id} is already served by {holder}")
        except BaseException:
            connection.close()
            engine.dispose()
            raise
        return cls(connection, engine, key)

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (self.key,))
            connection.commit()
        except sa.exc.DBAPIError as exc:  # the session is gone, and the lock with it
            log.debug("advisory unlock: %s", exc)
        finally:
            connection.close()
            self._engine.dispose()


def _advisory_holder(connection: Connection, key: int) -> str:
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    row = connection.exec_driver_sql(
        "SELECT a.application_name, a.client_addr, a.pid FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.classid = %s AND l.objid = %s AND l.objsubid = 1",
        (unsigned >> 32, unsigned & 0xFFFF_FFFF),
    ).first()
    if row is None:
        return "another session"
    name, address, pid = row
    where = f" from {address}" if address is not None else ""
    return f"{name or 'a session'} (PostgreSQL backend {pid}{where})".replace("pstg ", "pstg: ", 1)
