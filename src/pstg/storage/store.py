"""Writing stored rows: idempotent batch inserts and the rollups, one transaction per batch.

The fast path inserts a batch as is (executemany on SQLite, binary COPY on PostgreSQL). When
the batch collides with rows already stored — a replay after an outage whose last commit did
reach the database, or an import run twice — the transaction is rolled back and the batch is
written again without the rows that exist. Rollups are merged from exactly the rows inserted,
in the same transaction, so they always equal aggregates computed from the raw samples and a
replay never counts a sample twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from pstg.storage.database import is_sqlite
from pstg.storage.rollup import ROLLUP_COLUMNS, Aggregate, aggregate_levels
from pstg.storage.rows import StoredRow
from pstg.storage.schema import ROLLUPS

log = logging.getLogger("pstg.storage")

DAY_US = 86_400_000_000

_SAMPLE_COLUMNS = "tag_id, ts, value, quality, reason"
_COPY_TYPES = ["int8", "int8", "float8", "int2", "int2"]


class SampleStore:
    """Writes batches of StoredRow; safe to call from one worker thread at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = is_sqlite(engine)
        self._partitions: set[int] = set()

    def write(self, rows: Sequence[StoredRow], *, unique: bool = False) -> int:
        """Store `rows` (any order); returns how many were new. Duplicate keys in `rows` keep
        the last one; `unique=True` promises there are none and saves that pass (the writer's
        batches come through report by exception, which never admits a time twice)."""
        if not rows:
            return 0
        if not unique:
            rows = list({(row.tag_id, row.ts): row for row in rows}.values())
        texts = [row for row in rows if row[3] is not None]
        numbers = [row for row in rows if row[3] is None] if texts else list(rows)
        if not self.sqlite and numbers:
            self.ensure_partitions(row.ts for row in numbers)
        try:
            return self._write_once(numbers, texts)
        except psycopg.errors.CheckViolation as exc:
            if not _missing_partition(exc):
                raise
            # Retention dropped a day this cache still listed, and a late row wants it.
            self._partitions.clear()
            self.ensure_partitions(row.ts for row in numbers)
            return self._write_once(numbers, texts)

    def _write_once(self, numbers: list[StoredRow], texts: list[StoredRow]) -> int:
        """The fast path, or, when the batch collides with stored rows, the careful one."""
        try:
            return self._write(numbers, texts, skip_existing=False)
        except (IntegrityError, psycopg.errors.UniqueViolation):
            return self._write(numbers, texts, skip_existing=True)

    def _write(
        self, numbers: list[StoredRow], texts: list[StoredRow], *, skip_existing: bool
    ) -> int:
        with self.engine.begin() as connection:
            if skip_existing:
                numbers = _not_stored(connection, "samples", numbers)
                texts = _not_stored(connection, "text_samples", texts)
            if numbers:
                self._insert_numbers(connection, numbers)
            if texts:
                marks = ", ".join(["?" if self.sqlite else "%s"] * 5)
                connection.exec_driver_sql(
                    f"INSERT INTO text_samples ({_SAMPLE_COLUMNS}) VALUES ({marks})",
                    [(r.tag_id, r.ts, r.text, r.quality, r.reason) for r in texts],
                )
            if numbers:
                levels = aggregate_levels(numbers, [width for _, width in ROLLUPS])
                for (table, _), aggregates in zip(ROLLUPS, levels, strict=True):
                    merge_rollups(connection, table.name, aggregates)
        return len(numbers) + len(texts)

    def _insert_numbers(self, connection: Connection, rows: list[StoredRow]) -> None:
        values = [(r[0], r[1], r[2], r[4], r[5]) for r in rows]  # all but `text`
        if self.sqlite:
            # (Numbered parameters binding StoredRow as is measured 25 % slower in sqlite3.)
            connection.exec_driver_sql(
                f"INSERT INTO samples ({_SAMPLE_COLUMNS}) VALUES (?, ?, ?, ?, ?)", values
            )
            return
        raw = connection.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY samples ({_SAMPLE_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(_COPY_TYPES)
            for value in values:
                copy.write_row(value)

    def ensure_partitions(self, timestamps: Iterable[int]) -> None:
        """PostgreSQL: create the daily partitions of `samples` these times fall into."""
        days = {ts // DAY_US for ts in timestamps} - self._partitions
        for day in sorted(days):
            create_partition(self.engine, day)
            self._partitions.add(day)


def _missing_partition(exc: psycopg.errors.CheckViolation) -> bool:
    return "no partition" in str(exc)


def partition_name(day: int) -> str:
    return "samples_" + datetime.fromtimestamp(day * 86400, UTC).strftime("%Y%m%d")


def create_partition(engine: Engine, day: int) -> None:
    name = partition_name(day)
    statement = (
        f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF samples "
        f"FOR VALUES FROM ({day * DAY_US}) TO ({(day + 1) * DAY_US})"
    )
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(statement)
    except sa.exc.DBAPIError:
        # Another gateway sharing the database created it at the same moment.
        with engine.connect() as connection:
            exists = connection.exec_driver_sql(
                "SELECT 1 FROM pg_class WHERE relname = %s", (name,)
            ).first()
        if exists is None:
            raise
    log.debug("partition %s ready", name)


def _not_stored(connection: Connection, table: str, rows: list[StoredRow]) -> list[StoredRow]:
    """The rows whose (tag_id, ts) is not in `table` yet."""
    by_tag: dict[int, list[StoredRow]] = defaultdict(list)
    for row in rows:
        by_tag[row.tag_id].append(row)
    fresh: list[StoredRow] = []
    query = sa.text(f"SELECT ts FROM {table} WHERE tag_id = :tag AND ts BETWEEN :low AND :high")
    for tag_id, tag_rows in by_tag.items():
        low = min(row.ts for row in tag_rows)
        high = max(row.ts for row in tag_rows)
        stored = set(connection.execute(query, {"tag": tag_id, "low": low, "high": high}).scalars())
        fresh.extend(row for row in tag_rows if row.ts not in stored)
    return fresh


# --- rollups ---------------------------------------------------------------------------------


_PG_ROLLUP_TYPES = ["int8", "int8", "int4", "int4", "int4", "float8", "float8", "int8",
                    "float8", "int8", "float8", "int8", "float8", "int8"]  # fmt: skip


def _stage(table: str) -> str:
    return f"pstg_stage_{table}"


def _merge_statement(table: str, sqlite: bool) -> str:
    """INSERT ... ON CONFLICT merging new aggregates into `table`. SQLite takes one row of
    parameters per bucket (executemany); on PostgreSQL the aggregates are first COPied into a
    temporary staging table and merged from there in one statement (measured several times
    faster than executemany or array parameters)."""
    t = table
    columns = ", ".join(f'"{c}"' for c in ("tag_id", "bucket", *ROLLUP_COLUMNS))
    if sqlite:
        source = f"VALUES ({', '.join(['?'] * (2 + len(ROLLUP_COLUMNS)))})"
    else:
        source = f"SELECT * FROM {_stage(table)}"

    def keep_old(better: str, column: str, ts: str) -> str:
        # The stored extreme stays unless the new one is strictly better, or equal and earlier.
        old, new = f'{t}."{column}"', f'excluded."{column}"'
        old_ts, new_ts = f"{t}.{ts}", f"excluded.{ts}"
        return (
            f"excluded.{ts} IS NULL OR ({old_ts} IS NOT NULL AND "
            f"({old} {better} {new} OR ({old} = {new} AND {old_ts} <= {new_ts})))"
        )

    def pick(condition: str, column: str) -> str:
        return f'CASE WHEN {condition} THEN {t}."{column}" ELSE excluded."{column}" END'

    min_kept = keep_old("<", "min", "min_ts")
    max_kept = keep_old(">", "max", "max_ts")
    first_kept = (
        f"excluded.first_ts IS NULL OR "
        f"({t}.first_ts IS NOT NULL AND {t}.first_ts <= excluded.first_ts)"
    )
    last_kept = (
        f"excluded.last_ts IS NULL OR ({t}.last_ts IS NOT NULL AND {t}.last_ts >= excluded.last_ts)"
    )
    updates = [
        f'"count" = {t}."count" + excluded."count"',
        f"value_count = {t}.value_count + excluded.value_count",
        f"good_count = {t}.good_count + excluded.good_count",
        f'"sum" = CASE WHEN {t}."sum" IS NULL THEN excluded."sum" WHEN excluded."sum" IS NULL '
        f'THEN {t}."sum" ELSE {t}."sum" + excluded."sum" END',
        f'"min" = {pick(min_kept, "min")}',
        f"min_ts = {pick(min_kept, 'min_ts')}",
        f'"max" = {pick(max_kept, "max")}',
        f"max_ts = {pick(max_kept, 'max_ts')}",
        f'"first" = {pick(first_kept, "first")}',
        f"first_ts = {pick(first_kept, 'first_ts')}",
        f'"last" = {pick(last_kept, "last")}',
        f"last_ts = {pick(last_kept, 'last_ts')}",
    ]
    return (
        f"INSERT INTO {t} ({columns}) {source} "
        f"ON CONFLICT (tag_id, bucket) DO UPDATE SET {', '.join(updates)}"
    )


_MERGE_CACHE: dict[tuple[str, bool], str] = {}


def merge_rollups(
    connection: Connection, table: str, aggregates: dict[tuple[int, int], Aggregate]
) -> None:
    """Merge `aggregates` into the rollup `table` (insert new buckets, combine existing)."""
    if not aggregates:
        return
    sqlite = connection.dialect.name == "sqlite"
    statement = _MERGE_CACHE.get((table, sqlite))
    if statement is None:
        statement = _MERGE_CACHE[(table, sqlite)] = _merge_statement(table, sqlite)
    rows = [(tag_id, bucket, *agg.columns()) for (tag_id, bucket), agg in aggregates.items()]
    if sqlite:
        connection.exec_driver_sql(statement, rows)
        return
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    stage = _stage(table)
    with raw.cursor() as cursor:
        # Temporary: private to this connection, emptied at each commit.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {stage} FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_PG_ROLLUP_TYPES)
            for row in rows:
                copy.write_row(row)
        cursor.execute(statement)
