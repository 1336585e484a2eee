"""The on-disk buffer the writer fills while the database is unavailable.

A FIFO of batches of `StoredRow` in a local SQLite file. Each batch is one row of one table,
inserted by one statement, so after a crash a batch is either wholly in the spool or not at
all; batches survive a restart and are replayed oldest first. WAL with synchronous=NORMAL
keeps appends cheap: a process crash loses nothing committed, a power cut may lose the last
few batches but never corrupts the file.

A batch is stored as one compressed blob of columns (see `encode_rows`) rather than as one
SQL row per sample: a thousand samples cost one INSERT and 6 to 15 bytes each (measured on
polled data and on random floats).

`max_bytes` bounds the database pages in use, exactly: a batch that would take the file past
it is refused whole. The WAL file beside it adds a few MB (it is truncated to
`_WAL_LIMIT_BYTES` after each checkpoint). Removed batches give their pages back to the file
system at once (incremental auto-vacuum), so the size shrinks as the spool drains.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import struct
import threading
import zlib
from array import array
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pstg.files import create_private
from pstg.storage.columns import SampleColumns
from pstg.storage.rows import StoredRow

logger = logging.getLogger("pstg.storage")

NEAR_FULL_RATIO = 0.8
_FORMAT = 1  # first byte of every blob; bump on any change of the layout below
_SCHEMA_VERSION = 1  # PRAGMA user_version of the spool file
_WAL_LIMIT_BYTES = 4 * 1024 * 1024
_HEADER = struct.Struct("<BI")  # format, row count
_MB = 1024 * 1024


class SpoolError(Exception):
    """The spool file cannot be used: not a spool, a newer layout, or a corrupt batch."""


def encode_rows(rows: Sequence[StoredRow]) -> bytes:
    """Rows as one blob: a header, then zlib-compressed columns.

    Columns: tag ids and timestamps as int64, values as float64 (exact, -0.0 included) with a
    byte per row saying whether the value is present, quality and reason codes as one byte each,
    and the texts as a JSON list only when a row has text. Columns compress far better than rows
    (tag ids and timestamps repeat within a batch).
    """
    if not rows:
        return _HEADER.pack(_FORMAT, 0) + zlib.compress(b"", 1)
    tag_ids, stamps, values, texts, qualities, reasons = zip(*rows, strict=True)
    body = [
        array("q", tag_ids).tobytes(),
        array("q", stamps).tobytes(),
        array("d", [0.0 if value is None else value for value in values]).tobytes(),
        bytes([value is not None for value in values]),
        bytes(qualities),
        bytes(reasons),
    ]
    if any(text is not None for text in texts):
        body.append(json.dumps(texts).encode())
    return _HEADER.pack(_FORMAT, len(rows)) + zlib.compress(b"".join(body), 1)


def encode_columns(columns: SampleColumns) -> bytes:
    """`encode_rows` of the rows of `columns` (numeric rows, then texts), in the same layout,
    straight from the NumPy columns."""
    texts = columns.texts
    n, count = columns.numbers, len(columns)
    value = columns.value
    present = ~np.isnan(value)
    body = [
        _column(columns.tag_id, [r.tag_id for r in texts], "<i8"),
        _column(columns.ts, [r.ts for r in texts], "<i8"),
        _column(np.where(present, value, 0.0), [0.0] * len(texts), "<f8"),
        present.astype(np.uint8).tobytes() + bytes(len(texts)),
        _column(columns.quality, [r.quality for r in texts], "u1"),
        _column(columns.reason, [r.reason for r in texts], "u1"),
    ]
    if texts:
        body.append(json.dumps([None] * n + [r.text for r in texts]).encode())
    return _HEADER.pack(_FORMAT, count) + zlib.compress(b"".join(body), 1)


def _column(numbers: np.ndarray, more: list[int] | list[float], dtype: str) -> bytes:
    data = numbers.astype(dtype, copy=False).tobytes()
    return data + np.array(more, dtype=dtype).tobytes() if more else data


def decode_columns(blob: bytes) -> SampleColumns:
    """The rows of a blob as columns (rows with text as `texts`), in order."""
    try:
        version, count = _HEADER.unpack_from(blob)
        if version != _FORMAT:
            raise SpoolError(f"spooled batch has format {version}, this version reads {_FORMAT}")
        body = zlib.decompress(blob[_HEADER.size :])
        size = 8 * count
        if len(body) < 3 * size + 3 * count:
            raise ValueError(f"{len(body)} bytes for {count} rows")
        tag_ids = np.frombuffer(body, dtype="<i8", count=count).astype(np.int64)
        stamps = np.frombuffer(body, dtype="<i8", count=count, offset=size).astype(np.int64)
        values = np.frombuffer(body, dtype="<f8", count=count, offset=2 * size).astype(np.float64)
        offset = 3 * size
        present = np.frombuffer(body, dtype=np.uint8, count=count, offset=offset).astype(bool)
        qualities = np.frombuffer(body, dtype=np.uint8, count=count, offset=offset + count)
        reasons = np.frombuffer(body, dtype=np.uint8, count=count, offset=offset + 2 * count)
        rest = body[offset + 3 * count :]
        values[~present] = np.nan
        columns = SampleColumns(tag_ids, stamps, values, qualities.copy(), reasons.copy())
        if not rest:
            return columns
        texts: list[str | None] = json.loads(rest)
        if len(texts) != count:
            raise ValueError(f"{len(texts)} texts for {count} rows")
        has_text = np.array([text is not None for text in texts], dtype=np.bool_)
        rows = np.flatnonzero(has_text).tolist()
        text_rows = tuple(
            StoredRow(int(tag_ids[i]), int(stamps[i]), None, texts[i], int(qualities[i]),
                      int(reasons[i]))
            for i in rows
        )  # fmt: skip
        return columns.select(~has_text).with_texts(text_rows)
    except (struct.error, zlib.error, ValueError) as exc:  # json errors are ValueErrors
        raise SpoolError(f"spooled batch is corrupt: {exc}") from exc


def decode_rows(blob: bytes) -> list[StoredRow]:
    """The rows `encode_rows` made `blob` from, equal and in order."""
    try:
        version, count = _HEADER.unpack_from(blob)
        if version != _FORMAT:
            raise SpoolError(f"spooled batch has format {version}, this version reads {_FORMAT}")
        body = zlib.decompress(blob[_HEADER.size :])
        tag_ids, stamps, numbers = array("q"), array("q"), array("d")
        size = 8 * count
        tag_ids.frombytes(body[:size])
        stamps.frombytes(body[size : 2 * size])
        numbers.frombytes(body[2 * size : 3 * size])
        offset = 3 * size
        present = body[offset : offset + count]
        qualities = body[offset + count : offset + 2 * count]
        reasons = body[offset + 2 * count : offset + 3 * count]
        rest = body[offset + 3 * count :]
        texts: list[str | None] = json.loads(rest) if rest else [None] * count
        values = [number if has else None for number, has in zip(numbers, present, strict=True)]
        return list(
            map(
                StoredRow._make,
                zip(tag_ids, stamps, values, texts, qualities, reasons, strict=True),
            )
        )
    except (struct.error, zlib.error, ValueError) as exc:  # json and zip errors are ValueErrors
        raise SpoolError(f"spooled batch is corrupt: {exc}") from exc


class Spool:
    """A crash-safe FIFO of row batches in one SQLite file, shared by threads under a lock.

    An existing spool at `path` is reopened with its batches. `append` refuses a batch (and
    counts its rows in `dropped_rows`) when storing it would take the file past `max_bytes`.
    """

    def __init__(self, path: Path, *, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be > 0")
        self.path = path
        self.max_bytes = max_bytes
        self.dropped_rows = 0
        self._lock = threading.Lock()
        self._warned_near_full = False
        self._dropping = False
        path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: every statement is its own transaction, which is exactly a batch.
        create_private(path)  # it holds readings: 0600, and its -wal/-shm files inherit that
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self._batches, self._rows = self._open_schema()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise SpoolError(f"cannot open spool {path}: {exc}") from exc
        except BaseException:
            self._db.close()
            raise
        self._page_size: int = self._db.execute("PRAGMA page_size").fetchone()[0]
        self._size = self._measure()
        if self._batches:
            logger.info(
                "spool %s reopened with %d batches (%d rows) to replay",
                path,
                self._batches,
                self._rows,
            )
        self._check_near_full()

    def _open_schema(self) -> tuple[int, int]:
        db = self._db
        # auto_vacuum only takes effect when set before the first table is created.
        db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT_BYTES}")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > _SCHEMA_VERSION:
            raise SpoolError(f"spool {self.path} has layout {version}, newer than this version")
        db.execute(
            "CREATE TABLE IF NOT EXISTS batch ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT,"  # never reused: a stale seq removes nothing
            " row_count INTEGER NOT NULL,"
            " data BLOB NOT NULL)"
        )
        db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        batches, rows = db.execute(
            "SELECT count(*), coalesce(sum(row_count), 0) FROM batch"
        ).fetchone()
        return int(batches), int(rows)

    def append(self, rows: Sequence[StoredRow]) -> bool:
        """Store `rows` as the newest batch; False (nothing stored) when the spool is full."""
        if not rows:
            return True
        return self._append(encode_rows(rows), len(rows))

    def append_columns(self, columns: SampleColumns) -> bool:
        """`append` for columns, without a Python object per row."""
        if not len(columns):
            return True
        return self._append(encode_columns(columns), len(columns))

    def _append(self, blob: bytes, count: int) -> bool:
        with self._lock:
            # The blob is a lower bound of what the file grows by: most full spools refuse here.
            if self._size + len(blob) > self.max_bytes:
                self._drop(count)
                return False
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("INSERT INTO batch (row_count, data) VALUES (?, ?)", (count, blob))
                size = self._measure()
                if size > self.max_bytes:  # page overhead tipped it over: exact, never partial
                    self._db.execute("ROLLBACK")
                    self._drop(count)
                    return False
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._size = size
            self._batches += 1
            self._rows += count
            self._dropping = False
            self._check_near_full()
        return True

    def oldest(self) -> tuple[int, list[StoredRow]] | None:
        """The sequence number and rows of the oldest batch, or None when the spool is empty."""
        with self._lock:
            # fetchall ends the read at once, so no snapshot stays open between calls.
            found = self._db.execute("SELECT seq, data FROM batch ORDER BY seq LIMIT 1").fetchall()
        if not found:
            return None
        seq, blob = found[0]
        return int(seq), decode_rows(blob)

    def oldest_columns(self) -> tuple[int, SampleColumns] | None:
        """`oldest` as columns."""
        with self._lock:
            found = self._db.execute("SELECT seq, data FROM batch ORDER BY seq LIMIT 1").fetchall()
        if not found:
            return None
        seq, blob = found[0]
        return int(seq), decode_columns(blob)

    def remove(self, seq: int) -> None:
        """Delete batch `seq` once the database has it; a seq not in the spool is ignored."""
        with self._lock:
            # fetchall: a RETURNING statement commits only once stepped to its end.
            gone = self._db.execute(
                "DELETE FROM batch WHERE seq = ? RETURNING row_count", (seq,)
            ).fetchall()
            if not gone:
                return
            self._batches -= 1
            self._rows -= int(gone[0][0])
            # Give the freed pages back to the file system so the size tracks the content.
            # executescript steps the pragma to the end; execute() would free a single page.
            self._db.executescript("PRAGMA incremental_vacuum")
            self._size = self._measure()
            if self._batches == 0:
                self._warned_near_full = False

    @property
    def size_bytes(self) -> int:
        """Bytes of database pages in use (the WAL file is not counted)."""
        return self._size

    @property
    def batches(self) -> int:
        return self._batches

    @property
    def rows(self) -> int:
        return self._rows

    @property
    def fill_ratio(self) -> float:
        return self._size / self.max_bytes

    @property
    def near_full(self) -> bool:
        return self.fill_ratio >= NEAR_FULL_RATIO

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _measure(self) -> int:
        pages: int = self._db.execute("PRAGMA page_count").fetchone()[0]
        return pages * self._page_size

    def _check_near_full(self) -> None:
        if self._warned_near_full or not self.near_full:
            return
        self._warned_near_full = True
        logger.warning(
            "spool %s is near full: %.2f MB of %.2f MB; rows will be dropped when it is full",
            self.path,
            self._size / _MB,
            self.max_bytes / _MB,
        )

    def _drop(self, count: int) -> None:
        self.dropped_rows += count
        # Loud once per episode of being full; the counter tells how many followed.
        log = logger.debug if self._dropping else logger.error
        self._dropping = True
        log(
            "spool %s is full (%.2f MB of %.2f MB): dropped %d rows (%d dropped in total)",
            self.path,
            self._size / _MB,
            self.max_bytes / _MB,
            count,
            self.dropped_rows,
        )
