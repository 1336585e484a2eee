"""The spool on real SQLite files: FIFO order, restarts and crashes, the size limit, threads."""

import logging
import random
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pstg.storage.columns import SampleColumns
from pstg.storage.rows import QUALITY_CODES, REASON_CODES, StoredRow
from pstg.storage.spool import (
    Spool,
    SpoolError,
    decode_columns,
    decode_rows,
    encode_columns,
    encode_rows,
)

T0 = 1_772_366_400_000_000  # 2026-03-01T12:00:00Z in microseconds
MB = 1024 * 1024


def make_rows(count: int, *, first_ts: int = T0, seed: int = 0) -> list[StoredRow]:
    """Rows as a poll cycle makes them: 50 tags, numbers, a bad sample and a text now and then."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        ts = first_ts + (i // 50) * 1_000_000
        if i % 37 == 0:
            rows.append(StoredRow(i % 50 + 1, ts, None, None, 2, 2))
        elif i % 23 == 0:
            rows.append(StoredRow(i % 50 + 1, ts, None, rng.choice(["auto", "hand", "off"]), 0, 0))
        else:
            rows.append(StoredRow(i % 50 + 1, ts, rng.uniform(-100, 100), None, 0, 0))
    return rows


def drain(spool: Spool) -> Iterator[tuple[int, list[StoredRow]]]:
    while (batch := spool.oldest()) is not None:
        spool.remove(batch[0])
        yield batch


def oldest_seq(spool: Spool) -> int:
    batch = spool.oldest()
    assert batch is not None
    return batch[0]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "spool" / "buffer.db"  # parents do not exist yet


@pytest.fixture
def spool(path: Path) -> Iterator[Spool]:
    spool = Spool(path, max_bytes=64 * MB)
    yield spool
    spool.close()


def test_a_new_spool_is_empty(spool, path):
    assert path.exists()
    assert spool.oldest() is None
    assert (spool.batches, spool.rows, spool.dropped_rows) == (0, 0, 0)
    assert 0 < spool.size_bytes < 64 * 1024
    assert not spool.near_full


def test_empty_append_is_a_no_op(spool):
    assert spool.append([]) is True
    assert spool.oldest() is None
    assert spool.batches == 0


def test_fifo_over_many_batches(spool):
    batches = [make_rows(1 + i * 7 % 300, first_ts=T0 + i * 10**9, seed=i) for i in range(150)]
    for rows in batches:
        assert spool.append(rows)
    assert spool.batches == 150
    assert spool.rows == sum(map(len, batches))
    drained = list(drain(spool))
    assert [rows for _, rows in drained] == batches
    seqs = [seq for seq, _ in drained]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 150
    assert (spool.batches, spool.rows) == (0, 0)


def test_oldest_does_not_remove_and_counters_follow_removals(spool):
    first, second = make_rows(10, seed=1), make_rows(20, seed=2)
    spool.append(first)
    spool.append(second)
    seq, rows = spool.oldest()
    assert rows == first
    assert spool.oldest() == (seq, first)  # reading again gives the same batch
    spool.remove(seq)
    assert (spool.batches, spool.rows) == (1, 20)
    spool.remove(seq)  # already gone: nothing happens
    assert (spool.batches, spool.rows) == (1, 20)
    assert spool.oldest()[1] == second


def test_removing_a_middle_batch_keeps_the_others_in_order(spool):
    for i in range(5):
        spool.append(make_rows(3, seed=i))
    seqs = [seq for seq, _ in _peek_all(spool)]
    spool.remove(seqs[2])
    assert [rows for _, rows in drain(spool)] == [make_rows(3, seed=i) for i in (0, 1, 3, 4)]


def _peek_all(spool):
    """All batches, oldest first, without removing them (through a second reader)."""
    with sqlite3.connect(spool.path) as db:
        return [(seq, decode_rows(blob)) for seq, blob in db.execute("SELECT seq, data FROM batch")]


def test_sequence_numbers_are_never_reused(spool):
    spool.append(make_rows(2))
    seq, _ = spool.oldest()
    spool.remove(seq)
    spool.append(make_rows(2))
    newer, _ = spool.oldest()
    assert newer > seq
    spool.remove(seq)  # a stale seq must not remove the new batch
    assert spool.batches == 1


def test_reopen_after_close_keeps_batches_in_order(path):
    batches = [make_rows(100, first_ts=T0 + i * 10**8, seed=i) for i in range(20)]
    spool = Spool(path, max_bytes=64 * MB)
    for rows in batches[:12]:
        spool.append(rows)
    spool.remove(oldest_seq(spool))
    spool.close()

    reopened = Spool(path, max_bytes=64 * MB)
    assert (reopened.batches, reopened.rows) == (11, 1100)
    for rows in batches[12:]:
        reopened.append(rows)
    assert [rows for _, rows in drain(reopened)] == batches[1:]
    reopened.close()


def test_batches_survive_an_abandoned_spool(path):
    """A spool left open, as by a crash, loses nothing it acknowledged to a new one."""
    abandoned = Spool(path, max_bytes=64 * MB)
    batches = [make_rows(50, seed=i) for i in range(5)]
    for rows in batches:
        assert abandoned.append(rows)
    abandoned.remove(oldest_seq(abandoned))

    survivor = Spool(path, max_bytes=64 * MB)
    assert (survivor.batches, survivor.rows) == (4, 200)
    assert [rows for _, rows in drain(survivor)] == batches[1:]
    survivor.close()
    abandoned.close()  # only now, so nothing was flushed by closing it


def test_batches_survive_a_killed_process(path):
    """The writer process dies without closing anything; a restart replays its batches."""
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from pstg.storage.spool import Spool
        from tests.storage.test_spool import make_rows
        spool = Spool(Path({str(path)!r}), max_bytes=64 * 2**20)
        for i in range(30):
            spool.append(make_rows(200, seed=i))
        os._exit(9)
        """
    )
    project = Path(__file__).parents[2]
    result = subprocess.run([sys.executable, "-c", script], cwd=project, timeout=30, check=False)
    assert result.returncode == 9
    assert Path(f"{path}-wal").exists()  # the batches are still only in the WAL

    spool = Spool(path, max_bytes=64 * MB)
    assert (spool.batches, spool.rows) == (30, 6000)
    assert [rows for _, rows in drain(spool)] == [make_rows(200, seed=i) for i in range(30)]
    spool.close()


@pytest.mark.parametrize(
    "bad_row",
    [
        StoredRow(1, T0, 1.0, None, 300, 0),  # a code beyond one byte
        StoredRow(1, T0, "1.0", None, 0, 0),  # type: ignore[arg-type]
        StoredRow(1, 2**63, 1.0, None, 0, 0),  # beyond int64
    ],
)
def test_a_batch_that_cannot_be_stored_leaves_nothing(spool, bad_row):
    spool.append(make_rows(10))
    before = (spool.batches, spool.rows, spool.size_bytes)
    with pytest.raises((ValueError, TypeError, OverflowError)):
        spool.append([*make_rows(10), bad_row])
    assert (spool.batches, spool.rows, spool.size_bytes) == before
    assert [rows for _, rows in drain(spool)] == [make_rows(10)]


def test_full_spool_refuses_whole_batches_and_counts_dropped_rows(path, caplog):
    caplog.set_level(logging.DEBUG, logger="pstg.storage")
    spool = Spool(path, max_bytes=256 * 1024)
    stored = []
    for i in range(200):
        rows = make_rows(1000, seed=i)
        if not spool.append(rows):
            break
        stored.append(rows)
        assert spool.size_bytes <= spool.max_bytes
    else:
        pytest.fail("the spool never filled")
    assert stored
    full = (spool.batches, spool.rows, spool.size_bytes)
    assert spool.dropped_rows == 1000
    assert not spool.append(rows)  # still full
    assert spool.dropped_rows == 2000
    assert (spool.batches, spool.rows, spool.size_bytes) == full  # nothing partial
    assert spool.near_full
    assert spool.fill_ratio == spool.size_bytes / spool.max_bytes
    assert 0.8 <= spool.fill_ratio <= 1.0

    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1  # loud once per episode of being full, quiet for the repeats
    assert str(path) in errors[0].getMessage()
    assert "MB" in errors[0].getMessage()

    spool.remove(oldest_seq(spool))  # room again
    assert spool.append(make_rows(1000, seed=500))
    assert [rows for _, rows in drain(spool)] == [*stored[1:], make_rows(1000, seed=500)]
    spool.close()


def test_a_batch_larger_than_the_spool_is_refused(path):
    spool = Spool(path, max_bytes=32 * 1024)
    assert not spool.append(make_rows(20_000))
    assert spool.dropped_rows == 20_000
    assert spool.batches == 0
    assert spool.append(make_rows(10))  # a small batch still fits
    spool.close()


def test_near_full_warns_once_and_again_after_emptying(path, caplog):
    caplog.set_level(logging.WARNING, logger="pstg.storage")
    spool = Spool(path, max_bytes=512 * 1024)

    def fill():
        i = 0
        while not spool.near_full:
            assert spool.append(make_rows(500, seed=i))
            i += 1
        spool.append(make_rows(100))  # further appends while near full do not warn again

    fill()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert str(path) in warnings[0].getMessage()
    assert "MB" in warnings[0].getMessage()
    spool.remove(oldest_seq(spool))  # still holding batches: no reset
    fill()
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    list(drain(spool))
    fill()
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2
    spool.close()


def test_size_goes_down_as_batches_are_removed(path):
    spool = Spool(path, max_bytes=64 * MB)
    empty = spool.size_bytes
    for i in range(60):
        spool.append(make_rows(2000, seed=i))
    full = spool.size_bytes
    assert full > empty + 500_000
    for _ in range(30):
        spool.remove(oldest_seq(spool))
    half = spool.size_bytes
    assert half < 0.6 * full
    list(drain(spool))
    assert spool.size_bytes <= empty + 8192
    spool.close()
    assert path.stat().st_size <= empty + 8192  # the file on disk shrank too
    assert Spool(path, max_bytes=64 * MB).size_bytes == spool.size_bytes


def test_a_batch_is_compact(spool):
    spool.append(make_rows(10_000))
    assert spool.size_bytes < 10_000 * 16  # a row as stored by the writer is 40+ bytes


def test_a_file_that_is_not_a_spool_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are not the pages you are looking for" * 100)
    with pytest.raises(SpoolError, match=r"notes\.db"):
        Spool(path, max_bytes=MB)


def test_a_corrupt_batch_raises_spool_error():
    blob = encode_rows(make_rows(10))
    with pytest.raises(SpoolError, match="corrupt"):
        decode_rows(blob[:-5])
    with pytest.raises(SpoolError, match="format"):
        decode_rows(b"\x07" + blob[1:])


def test_usage_from_other_threads(spool):
    """Two producer threads and a consumer thread share the spool; no row is lost or reordered."""
    per_producer = 60
    received: list[StoredRow] = []
    producers_done = threading.Event()
    failures: list[BaseException] = []

    def produce(tag_id: int) -> None:
        try:
            for i in range(per_producer):
                assert spool.append([StoredRow(tag_id, T0 + i, float(i), None, 0, 0)] * 5)
        except BaseException as exc:
            failures.append(exc)

    def consume() -> None:
        try:
            while True:
                batch = spool.oldest()
                if batch is None:
                    if producers_done.is_set() and spool.oldest() is None:
                        return
                    continue
                received.extend(batch[1])
                spool.remove(batch[0])
        except BaseException as exc:
            failures.append(exc)

    producers = [threading.Thread(target=produce, args=(tag,)) for tag in (1, 2)]
    consumer = threading.Thread(target=consume)
    for thread in [*producers, consumer]:
        thread.start()
    for thread in producers:
        thread.join(timeout=20)
    producers_done.set()
    consumer.join(timeout=20)
    assert not consumer.is_alive()
    assert not failures
    for tag_id in (1, 2):
        mine = [row.value for row in received if row.tag_id == tag_id]
        assert mine == [float(i) for i in range(per_producer) for _ in range(5)]
    assert (spool.batches, spool.rows) == (0, 0)


rows_strategy = st.lists(
    st.builds(
        StoredRow,
        tag_id=st.integers(-(2**63), 2**63 - 1),
        ts=st.integers(-(2**63), 2**63 - 1),
        value=st.none() | st.floats(allow_nan=False, allow_infinity=False),
        text=st.none() | st.text(),
        quality=st.sampled_from(sorted(QUALITY_CODES.values())),
        reason=st.sampled_from(sorted(REASON_CODES.values())),
    ),
    max_size=40,
)


@given(rows_strategy)
def test_rows_round_trip_exactly(rows):
    decoded = decode_rows(encode_rows(rows))
    # repr tells -0.0 from 0.0 and shows every digit a float has
    assert repr(decoded) == repr(rows)
    assert all(type(row) is StoredRow for row in decoded)


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows_strategy.filter(bool))
def test_rows_round_trip_through_the_file(spool, rows):
    rows = [
        *rows,
        StoredRow(1, T0, -0.0, None, 0, 0),
        StoredRow(2, T0, 1.7976931348623157e308, None, 0, 0),
    ]
    assert spool.append(rows)
    seq, stored = spool.oldest()
    spool.remove(seq)
    assert repr(stored) == repr(rows)


@given(rows_strategy)
def test_columns_round_trip_in_the_same_layout_as_rows(rows):
    # A stored row holds a number or a text, never both.
    rows = [row._replace(value=None) if row.text is not None else row for row in rows]
    columns = SampleColumns.of_rows(rows)
    in_order = columns.rows()  # numeric rows first, then the texts
    assert repr(decode_columns(encode_columns(columns)).rows()) == repr(in_order)
    # Either side reads the other's blobs: a spool left by an older version still replays.
    assert repr(decode_rows(encode_columns(columns))) == repr(in_order)
    assert repr(decode_columns(encode_rows(in_order)).rows()) == repr(in_order)


def test_columns_through_the_file(spool):
    columns = SampleColumns.of_rows(make_rows(500))
    assert spool.append_columns(columns)
    seq, stored = spool.oldest_columns()
    assert repr(stored.rows()) == repr(columns.rows())
    spool.remove(seq)
    assert spool.oldest_columns() is None
