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
        with engine.connect() as connection:
            tag_id = connection.execute(
                sa.text("SELECT id FROM tags WHERE name = 't0'")
            ).scalar_one()
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


async def test_a_start_after_a_crash_marks_where_the_data_ended(modbus_server, tmp_path):
    await modbus_server.set_values(1, RegisterTable.HOLDING_REGISTER, 0, [5])
    config = write_station(tmp_path, modbus_server.port)
    await migrate(config)
    async with running(config) as process:
        await wait_until_serving(process, config)
        await wait_until(lambda: bool(rows(tmp_path)), what="the first reading stored")
        process.send_signal(signal.SIGKILL)  # no stop, no marker
        await process.wait()
    before = rows(tmp_path)
    assert [row[2:] for row in before] == [(5.0, 0, 0)]
    result = await run_pstg("run", "-c", str(config), "--duration", "1", limit=120)
    assert result.returncode == 0, result.stderr
    assert "the previous run ended without a clean stop: 1 tag(s) marked" in result.stderr
    after = rows(tmp_path)
    assert [row[2:] for row in after] == [
        (5.0, 0, 0),  # before the crash
        (None, BAD_CODE, STOPPED),  # the gap starts right after the last stored row
        (5.0, 0, 0),  # polled again after the restart
        (None, BAD_CODE, STOPPED),  # and the clean stop
    ]
    assert after[1][1] == before[0][1] + 1
