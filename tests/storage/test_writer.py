"""The writer on both backends: off the event loop, every row it is given stored once, a
database that goes away mid-stream, and bounded memory when storage cannot keep up."""

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from pstg.batch import Batch
from pstg.model import Event, EventKind, QualityReason, Sample
from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade
from pstg.storage.rows import to_micros
from pstg.storage.spool import Spool
from pstg.storage.writer import SampleWriter
from tests.support.tcp_proxy import TcpProxy

T0 = datetime(2026, 5, 28, 12, 0, tzinfo=UTC)
TAGS = {"level": 1, "flow": 2, "name": 3}
INDEX = {name: i for i, name in enumerate(TAGS)}
IDS = np.array(list(TAGS.values()), dtype=np.int64)


def writer_for(engine: sa.Engine, tmp_path: Path, **options) -> SampleWriter:
    settings = {"flush_interval": 0.05, "retry_interval": 0.2, **options}
    max_bytes = settings.pop("spool_max_bytes", 50_000_000)
    return SampleWriter(
        engine,
        station_id=1,
        tag_ids=IDS,
        spool=Spool(tmp_path / "spool.db", max_bytes=max_bytes),
        **settings,
    )


def batch(samples: list[Sample]) -> Batch:
    return Batch.from_samples(samples, INDEX)


def stream(count: int, start: int = 0) -> list[Batch]:
    """`count` poll cycles of two changing numeric tags, 100 ms apart."""
    return [
        batch(
            [
                Sample("level", T0 + timedelta(milliseconds=100 * n), float(n)),
                Sample("flow", T0 + timedelta(milliseconds=100 * n), float(-n)),
            ]
        )
        for n in range(start, start + count)
    ]


def stored_keys(engine: sa.Engine) -> list[tuple[int, int]]:
    with engine.connect() as connection:
        return [
            (row[0], row[1])
            for row in connection.exec_driver_sql("SELECT tag_id, ts FROM samples ORDER BY ts")
        ]


def expected_keys(batches: list[Batch]) -> list[tuple[int, int]]:
    keys = [(int(IDS[t]), ts) for b in batches for t, ts in zip(b.tags, b.ts.tolist(), strict=True)]
    return sorted(keys, key=lambda key: (key[1], key[0]))


async def test_samples_are_stored_off_the_polling_path(engine: sa.Engine, tmp_path: Path) -> None:
    writer = writer_for(engine, tmp_path)
    batches = stream(20)
    async with writer:
        for batch in batches[:10]:
            writer.submit(batch)  # returns at once: no database work here
        assert stored_keys(engine) == []
        await writer.flush()
        assert writer.stats.last_error is None
        assert len(stored_keys(engine)) == 20
        for batch in batches[10:]:
            writer.submit(batch)
    # close() flushed the rest.
    assert sorted(stored_keys(engine)) == sorted(expected_keys(batches))
    assert writer.stats.stored == 40
    assert writer.stats.database_up


async def test_every_row_is_stored_as_given(engine: sa.Engine, tmp_path: Path) -> None:
    # Report by exception happens upstream now: repeats, bad and text samples all land.
    writer = writer_for(engine, tmp_path)
    ts = [T0 + timedelta(milliseconds=200 * n) for n in range(4)]
    async with writer:
        writer.submit(batch([Sample("level", t, 1.0) for t in ts[:2]]))
        writer.submit(batch([Sample.bad("level", ts[2], QualityReason.TIMEOUT)]))
        writer.submit(
            batch([Sample("name", ts[3], "LS1"), Sample.bad("name", ts[2], QualityReason.TIMEOUT)])
        )
    with engine.connect() as connection:
        numbers = connection.exec_driver_sql(
            "SELECT tag_id, ts, value, quality FROM samples ORDER BY tag_id, ts"
        ).all()
        texts = [
            tuple(row) for row in connection.exec_driver_sql("SELECT ts, value FROM text_samples")
        ]
    assert [tuple(row) for row in numbers] == [
        (1, to_micros(ts[0]), 1.0, 0),
        (1, to_micros(ts[1]), 1.0, 0),
        (1, to_micros(ts[2]), None, 2),  # bad: the gap is visible
        (3, to_micros(ts[2]), None, 2),  # a string tag's bad sample has no text
    ]
    assert texts == [(to_micros(ts[3]), "LS1")]
    assert writer.stats.stored == writer.stats.received == 5


async def eventually(condition: Callable[[], bool], within: float = 60.0) -> None:
    """Wait until `condition()` holds (checked every 20 ms); fail after `within` seconds,
    a bound far above what a busy machine needs, never a measure of speed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def feed(writer: SampleWriter, batches: list[Batch], interval: float) -> None:
    for batch in batches:
        writer.submit(batch)
        await asyncio.sleep(interval)


async def test_postgresql_going_away_mid_stream_loses_nothing_and_duplicates_nothing(
    postgres_database, tmp_path: Path
) -> None:
    postgres_database.reset()
    direct = create_engine(postgres_database.url)
    upgrade(direct)
    with TcpProxy("127.0.0.1", 5432) as proxy:
        url = sa.make_url(postgres_database.url).set(port=proxy.port)
        engine = create_engine(
            url.render_as_string(hide_password=False), connect_args={"connect_timeout": 2}
        )
        writer = writer_for(engine, tmp_path)
        batches = stream(120)
        async with writer:
            feeding = asyncio.create_task(feed(writer, batches, 0.02))
            await asyncio.sleep(0.6)
            proxy.cut()  # the database is gone: connections reset, new ones refused
            await eventually(lambda: writer.stats.spooled > 0)
            assert not writer.stats.database_up
            proxy.restore()
            await feeding
            await eventually(lambda: writer.stats.database_up and writer.spool.rows == 0)
        engine.dispose()
    assert stored_keys(direct) == expected_keys(batches)  # every sample once, none twice
    assert writer.stats.replayed > 0
    assert writer.spool.rows == 0
    with direct.connect() as connection:
        counted = connection.exec_driver_sql('SELECT SUM("count") FROM rollups_1m').scalar()
    assert counted == 240
    direct.dispose()


async def test_a_locked_sqlite_file_spools_then_replays(tmp_path: Path) -> None:
    path = tmp_path / "pstg.db"
    engine = create_engine(f"sqlite:///{path}", busy_timeout_ms=50)
    upgrade(engine)
    writer = writer_for(engine, tmp_path)
    batches = stream(30)
    locker = sqlite3.connect(path, isolation_level=None)
    async with writer:
        locker.execute("BEGIN EXCLUSIVE")  # another process holds the file
        await feed(writer, batches[:15], 0.02)
        await eventually(lambda: writer.stats.spooled > 0)
        assert not writer.stats.database_up
        assert "locked" in (writer.stats.last_error or "")
        assert writer.stats.behind_seconds > 0  # the spooled rows wait
        locker.execute("COMMIT")
        await feed(writer, batches[15:], 0.02)
        await eventually(lambda: writer.stats.database_up and writer.spool.rows == 0)
    locker.close()
    assert stored_keys(engine) == expected_keys(batches)
    engine.dispose()


async def test_rows_spooled_at_shutdown_are_replayed_by_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "pstg.db"
    engine = create_engine(f"sqlite:///{path}", busy_timeout_ms=50)
    upgrade(engine)
    batches = stream(10)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    first = writer_for(engine, tmp_path)
    async with first:
        for batch in batches:
            first.submit(batch)
    assert first.stats.spooled == 20  # the database never came back before the exit
    locker.execute("COMMIT")
    locker.close()
    second = writer_for(engine, tmp_path)
    async with second:
        await eventually(lambda: second.stats.replayed == 20)
    assert stored_keys(engine) == expected_keys(batches)
    assert second.stats.replayed == 20
    engine.dispose()


async def test_a_full_spool_drops_and_counts(tmp_path: Path) -> None:
    path = tmp_path / "pstg.db"
    engine = create_engine(f"sqlite:///{path}", busy_timeout_ms=20)
    upgrade(engine)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    writer = writer_for(engine, tmp_path, spool_max_bytes=32 * 1024)
    async with writer:
        for n in range(40):
            await feed(writer, stream(50, start=50 * n), 0)
            await writer.flush()
    locker.execute("ROLLBACK")
    locker.close()
    assert writer.stats.dropped > 0
    assert writer.stats.spooled + writer.stats.dropped == 4000
    engine.dispose()


async def test_events_are_journaled(engine: sa.Engine, tmp_path: Path) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO stations (id, key, name, created_at) VALUES (1, 'ps-01', '', 0)"
        )
    writer = writer_for(engine, tmp_path)
    async with writer:
        writer.submit_event(
            Event(T0, EventKind.DEVICE_DISCONNECTED, "plc1", "timeout", {"kind": "timeout"})
        )
    with engine.connect() as connection:
        row = connection.exec_driver_sql("SELECT ts, kind, source, message FROM events").one()
    assert tuple(row) == (to_micros(T0), "device_disconnected", "plc1", "timeout")


async def test_unknown_tag_indexes_are_counted_not_stored(
    engine: sa.Engine, tmp_path: Path
) -> None:
    writer = writer_for(engine, tmp_path)
    rows = Batch(
        np.array([0, 7, -1], dtype=np.int32),
        np.full(3, to_micros(T0), dtype=np.int64),
        np.ones(3),
        np.full(3, 1, dtype=np.uint8),
        np.zeros(3, dtype=np.uint8),
    )
    async with writer:
        writer.submit(rows)
    assert writer.stats.unknown_tag == 2
    assert stored_keys(engine) == [(1, to_micros(T0))]


def add_station(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO stations (id, key, name, created_at) VALUES (1, 'ps-01', '', 0)"
        )


def journal(engine: sa.Engine, kind: EventKind) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.exec_driver_sql(
                f"SELECT message FROM events WHERE kind = '{kind.value}'"
            ).scalars()
        )


async def test_memory_stays_bounded_when_storage_falls_behind(
    engine: sa.Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    add_station(engine)
    # No flush by time or size: only the memory bound acts while the loop is not yielded.
    writer = writer_for(engine, tmp_path, flush_interval=60, batch_size=10**6, max_pending_rows=100)
    batches = stream(51)
    with caplog.at_level(logging.WARNING, logger="pstg.storage"):
        async with writer:
            for b in batches:
                writer.submit(b)
                assert writer.stats.pending <= 100
            await writer.flush()  # the spill has landed; the rest follows it through the spool
            assert writer.stats.overflowed == 100
            assert not writer.stats.behind  # the database took the spool: caught up
    assert stored_keys(engine) == expected_keys(batches)
    assert (writer.stats.stored, writer.stats.dropped) == (102, 0)
    assert any("storage is" in r.message and "behind" in r.message for r in caplog.records)
    assert len(journal(engine, EventKind.STORAGE_BEHIND)) == 1


async def test_rows_past_twice_the_memory_bound_are_dropped_and_counted(
    engine: sa.Engine, tmp_path: Path
) -> None:
    add_station(engine)
    writer = writer_for(engine, tmp_path, flush_interval=60, batch_size=10**6, max_pending_rows=100)
    batches = stream(151)
    async with writer:
        for b in batches:  # the spill of the first 100 rows cannot run meanwhile
            writer.submit(b)
    stats = writer.stats
    assert stats.dropped == 102  # batches 101 to 151: memory was full and the spill under way
    assert stats.stored + stats.dropped == stats.received == 302
    assert stored_keys(engine) == expected_keys(batches[:100])
    (message,) = journal(engine, EventKind.STORAGE_BEHIND)
    assert "rows moved to the spool" in message or "dropped" in message
