"""Issue 10, item 15: an outage of the gateway is a gap, not a flat line.

A clean stop writes a bad row with reason `stopped` for every tag; a start after a crash
writes one where the last run's data ends, before polling again.
"""

import signal
import sqlite3
from datetime import timedelta

import sqlalchemy as sa

from pstg.model import BAD_CODE, REASON_CODES, QualityReason, RegisterTable
from pstg.storage.queries import summary, trend
from pstg.times import from_micros
from tests.cli.conftest import run_pstg
from tests.service.conftest import (
    migrate,
    running,
    wait_until,
    wait_until_serving,
    write_station,
)

STOPPED = REASON_CODES[QualityReason.STOPPED]


def rows(folder):
    with sqlite3.connect(folder / "pstg.db") as db:
        return db.execute(
            "SELECT t.name, s.ts, s.value, s.quality, s.reason FROM samples s "
            "JOIN tags t ON t.id = s.tag_id ORDER BY t.name, s.ts"
        ).fetchall()


def t0_id(engine):
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT id FROM tags WHERE name = 't0'")).scalar_one()


async def test_a_clean_stop_ends_every_tag_with_a_stopped_marker(modbus_server, tmp_path):
    await modbus_server.set_values(1, RegisterTable.HOLDING_REGISTER, 0, [11, 22])
    config = write_station(tmp_path, modbus_server.port, tags=2)
    await migrate(config)
    result = await run_pstg("run", "-c", str(config), "--duration", "1", limit=120)
    assert result.returncode == 0, result.stderr
    stored = rows(tmp_path)
    for tag, value in (("t0", 11.0), ("t1", 22.0)):
        mine = [row for row in stored if row[0] == tag]
        assert [row[2:] for row in mine] == [(value, 0, 0), (None, BAD_CODE, STOPPED)]

    # What a trend and a summary over the following minutes show: a gap, not the last value
    # carried flat for the staleness window (7.5 minutes by default).
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'pstg.db'}")
    try:
        tag_id = t0_id(engine)
        start = from_micros(next(row[1] for row in stored if row[0] == "t0"))
        curve = trend(engine, tag_id, start, start + timedelta(minutes=5), 30)
        assert curve.staleness >= 300  # without the marker all 5 minutes would be carried
        assert curve.buckets[0].last == 11.0
        assert not any(bucket.carried for bucket in curve.buckets)
        assert all(bucket.gap for bucket in curve.buckets[1:])
        totals = summary(engine, tag_id, start, start + timedelta(minutes=5))
        assert (totals.count, totals.good_count, totals.percent_good) == (2, 1, 50.0)
        assert totals.time_weighted_avg == 11.0
    finally:
        engine.dispose()


async def crash_and_restart(modbus_server, folder):
    """`pstg run` killed (SIGKILL) once its first reading is stored, then run again for a
    second; the rows stored before the restart and after it."""
    await modbus_server.set_values(1, RegisterTable.HOLDING_REGISTER, 0, [5])
    config = write_station(folder, modbus_server.port)
    await migrate(config)
    async with running(config) as process:
        await wait_until_serving(process, config)
        await wait_until(lambda: bool(rows(folder)), what="the first reading stored")
        process.send_signal(signal.SIGKILL)  # no stop, no marker
        await process.wait()
    before = rows(folder)
    result = await run_pstg("run", "-c", str(config), "--duration", "1", limit=120)
    assert result.returncode == 0, result.stderr
    assert "the previous run ended without a clean stop: 1 tag(s) marked" in result.stderr
    return before, rows(folder)


async def test_a_start_after_a_crash_marks_where_the_data_ended(modbus_server, tmp_path):
    before, after = await crash_and_restart(modbus_server, tmp_path)
    assert [row[2:] for row in before] == [(5.0, 0, 0)]
    assert [row[2:] for row in after] == [
        (5.0, 0, 0),  # before the crash
        (None, BAD_CODE, STOPPED),  # the gap starts right after the last stored row
        (5.0, 0, 0),  # polled again after the restart
        (None, BAD_CODE, STOPPED),  # and the clean stop
    ]
    assert after[1][1] == before[0][1] + 1


async def test_a_trend_and_a_summary_over_a_crash_show_the_gap(modbus_server, tmp_path):
    before, after = await crash_and_restart(modbus_server, tmp_path)
    (last_before,) = (row[1] for row in before)
    first_after = next(row[1] for row in after if row[1] > last_before and row[2] is not None)
    crashed, restarted = from_micros(last_before), from_micros(first_after)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'pstg.db'}")
    try:
        tag_id = t0_id(engine)
        # From the last reading before the crash to the first after the restart, inclusive.
        end = restarted + timedelta(microseconds=1)
        curve = trend(engine, tag_id, crashed, end, 20)
        # Without the marker the whole outage would be carried flat: it is shorter than the
        # staleness (7.5 minutes by default).
        assert (restarted - crashed).total_seconds() < curve.staleness
        first, *between, last = curve.buckets
        assert len(between) == 18
        assert all(b.gap and not b.carried and b.count == 0 for b in between)
        assert (first.last, first.count, first.good_count) == (5.0, 2, 1)  # reading + marker
        assert (last.first, last.count, last.good_count, last.gap) == (5.0, 1, 1, False)

        # The summary counts the marker: half the stored rows of the outage are not good
        # (without it, one good row: 100 %).
        totals = summary(engine, tag_id, crashed, restarted)
        assert (totals.count, totals.good_count, totals.percent_good) == (2, 1, 50.0)
    finally:
        engine.dispose()
