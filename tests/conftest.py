"""Fixtures shared across test folders. Servers are real and listen on 127.0.0.1 only."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade
from tests.support.databases import ScratchDatabase, skip_or_fail, unavailable_reason
from tests.support.modbus_server import ModbusTestServer
from tests.support.serial_line import SerialLine


@pytest.fixture
async def modbus_server() -> AsyncIterator[ModbusTestServer]:
    """A Modbus TCP server serving unit ids 1 and 2 (values 0 until set)."""
    async with ModbusTestServer(units=(1, 2)) as server:
        yield server


@pytest.fixture
async def rtu_over_tcp_server() -> AsyncIterator[ModbusTestServer]:
    """The same, speaking RTU frames over TCP like a serial-to-Ethernet converter."""
    async with ModbusTestServer(units=(1, 2), rtu_framing=True) as server:
        yield server


@pytest.fixture
async def serial_line() -> AsyncIterator[SerialLine]:
    """Two joined pseudo-terminals: the driver opens `master_url`, a device `device_url`."""
    async with SerialLine() as line:
        yield line


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[ScratchDatabase]:
    """This run's own PostgreSQL database (skipped, or failed in CI, when there is none)."""
    reason = unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)
    database = ScratchDatabase()
    yield database
    database.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend: a SQLite file, or a reset PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'pstg.db'}"
    database: ScratchDatabase = request.getfixturevalue("postgres_database")
    database.reset()
    return database.url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database on each backend."""
    engine = create_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()
