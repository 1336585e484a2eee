"""Writing rollup aggregates into the rollup tables (rollups_1m, _10m, _1h): merged with what
a bucket holds, or replacing it.

`merge_rollups` is INSERT ... ON CONFLICT DO UPDATE combining the stored aggregate with the
new one under the rules of rollup.py (sums add, the earliest of equal extremes wins, first and
last by time). `replace_rollups` overwrites (used after recomputing a bucket from raw rows).
SQLite takes one row of parameters per bucket (executemany); on PostgreSQL the aggregates are
COPied in binary into a temporary staging table and merged from there in one statement
(measured several times faster than executemany or array parameters).
"""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import Connection

from pstg.storage.pgcopy import binary_copy
from pstg.storage.rollup import ROLLUP_COLUMNS, Aggregates

_VALUE_COLUMNS = tuple(range(5, 14))
"""Positions (in tag_id, bucket, *ROLLUP_COLUMNS) of the columns NULL without values."""


def _stage(table: str) -> str:
    return f"pstg_stage_{table}"


def _merge_statement(table: str, sqlite: bool, *, replace: bool) -> str:
    t = table
    columns = ", ".join(f'"{c}"' for c in ("tag_id", "bucket", *ROLLUP_COLUMNS))
    if sqlite:
        source = f"VALUES ({', '.join(['?'] * (2 + len(ROLLUP_COLUMNS)))})"
    else:
        source = f"SELECT * FROM {_stage(table)}"
    if replace:
        updates = [f'"{c}" = excluded."{c}"' for c in ROLLUP_COLUMNS]
        return (
            f"INSERT INTO {t} ({columns}) {source} "
            f"ON CONFLICT (tag_id, bucket) DO UPDATE SET {', '.join(updates)}"
        )

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


_STATEMENTS: dict[tuple[str, bool, bool], str] = {}


def merge_rollups(connection: Connection, table: str, aggregates: Aggregates) -> None:
    """Merge `aggregates` (one per key) into `table`: new buckets inserted, stored ones
    combined with them."""
    _write(connection, table, aggregates, replace=False)


def replace_rollups(connection: Connection, table: str, aggregates: Aggregates) -> None:
    """Store `aggregates` (one per key) in `table`, overwriting what those buckets held."""
    _write(connection, table, aggregates, replace=True)


def _write(connection: Connection, table: str, aggregates: Aggregates, *, replace: bool) -> None:
    if not len(aggregates):
        return
    sqlite = connection.dialect.name == "sqlite"
    key = (table, sqlite, replace)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = _merge_statement(table, sqlite, replace=replace)
    if sqlite:
        connection.exec_driver_sql(statement, aggregates.rows())
        return
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    stage = _stage(table)
    a = aggregates
    payload = binary_copy(
        [
            (a.tag_id, "int8"), (a.bucket, "int8"), (a.count, "int4"),
            (a.value_count, "int4"), (a.good_count, "int4"), (a.sum, "float8"),
            (a.min, "float8"), (a.min_ts, "int8"), (a.max, "float8"), (a.max_ts, "int8"),
            (a.first, "float8"), (a.first_ts, "int8"), (a.last, "float8"), (a.last_ts, "int8"),
        ],
        nulls=a.value_count == 0,
        nullable=_VALUE_COLUMNS,
    )  # fmt: skip
    with raw.cursor() as cursor:
        # Temporary: private to this connection, emptied at each commit.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {stage} FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(payload)
        cursor.execute(statement)
        # Within one transaction the stage may be used again (both levels, close + late).
        cursor.execute(f"TRUNCATE {stage}")
