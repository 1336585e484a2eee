"""The tables, as SQLAlchemy Core objects for queries. Alembic migrations own the DDL
(`migrations/versions/`); a test checks that a migrated database matches these definitions.

Times are BIGINT microseconds since the Unix epoch, UTC (see rows.py). Quality and reason are
small integer codes (rows.QUALITY_CODES, rows.REASON_CODES).

- `samples` (numbers and bad samples) and `text_samples` (string tags) are keyed by
  (tag_id, ts). On SQLite they are WITHOUT ROWID tables, so the key is the storage order and a
  per-tag range read is one sequential scan; on PostgreSQL `samples` is partitioned by day so
  retention drops whole partitions.
- `rollups_1m` / `rollups_10m` / `rollups_1h` hold per-tag aggregates per bucket (bucket =
  start time), maintained by the writer in the transaction that inserts the samples: `count`
  rows in the bucket, `value_count` of them with a value, `good_count` good ones, and over the
  values sum/min/max (with the time of min and max) and the first and last value with their
  times. (The 10-minute level lets a month-long chart read a tenth of the 1-minute rows.)
- `stations`, `devices`, `tags` mirror the config; a tag that leaves the config is retired
  (`retired_at`), never deleted, so its history stays readable.
- `events`: the journal of link and system events.
- `open_rollups`: a row per station whose writer holds its current rollup buckets in memory,
  with each level's open bucket (see open_buckets.py); a crash leaves it, and the next start
  recomputes those buckets.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""An id column: BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER is the rowid)."""

stations = sa.Table(
    "stations",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("station_id", BigId, sa.ForeignKey("stations.id"), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("driver", sa.String(64), nullable=False),
    sa.Column("address", sa.Text, nullable=False, server_default=""),
    sa.Column("unit_id", sa.Integer, nullable=False),
    sa.Column("retired_at", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("station_id", "key", name="uq_devices_station_key"),
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("station_id", BigId, sa.ForeignKey("stations.id"), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("device_key", sa.String(64), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("address", sa.Integer, nullable=False),
    sa.Column("data_type", sa.String(16), nullable=False),
    sa.Column("unit", sa.String(32), nullable=False, server_default=""),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("deadband", sa.Float, nullable=True),
    sa.Column("range_low", sa.Float, nullable=True),
    sa.Column("range_high", sa.Float, nullable=True),
    sa.Column("writable", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("retired_at", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("station_id", "name", name="uq_tags_station_name"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.BigInteger, nullable=False),
    sa.Column("station_id", BigId, sa.ForeignKey("stations.id"), nullable=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("attributes", sa.JSON, nullable=False),
    sa.Index("ix_events_ts", "ts"),
    sa.Index("ix_events_kind_ts", "kind", "ts"),
)

samples = sa.Table(
    "samples",
    metadata,
    sa.Column("tag_id", BigId, primary_key=True),
    sa.Column("ts", sa.BigInteger, primary_key=True),
    sa.Column("value", sa.Float(precision=53), nullable=True),
    sa.Column("quality", sa.SmallInteger, nullable=False),
    sa.Column("reason", sa.SmallInteger, nullable=False),
    sqlite_with_rowid=False,
    postgresql_partition_by="RANGE (ts)",
)

text_samples = sa.Table(
    "text_samples",
    metadata,
    sa.Column("tag_id", BigId, primary_key=True),
    sa.Column("ts", sa.BigInteger, primary_key=True),
    sa.Column("value", sa.Text, nullable=True),
    sa.Column("quality", sa.SmallInteger, nullable=False),
    sa.Column("reason", sa.SmallInteger, nullable=False),
    sqlite_with_rowid=False,
)


def rollup_table(name: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("tag_id", BigId, primary_key=True),
        sa.Column("bucket", sa.BigInteger, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("value_count", sa.Integer, nullable=False),
        sa.Column("good_count", sa.Integer, nullable=False),
        sa.Column("sum", sa.Float(precision=53), nullable=True),
        sa.Column("min", sa.Float(precision=53), nullable=True),
        sa.Column("min_ts", sa.BigInteger, nullable=True),
        sa.Column("max", sa.Float(precision=53), nullable=True),
        sa.Column("max_ts", sa.BigInteger, nullable=True),
        sa.Column("first", sa.Float(precision=53), nullable=True),
        sa.Column("first_ts", sa.BigInteger, nullable=True),
        sa.Column("last", sa.Float(precision=53), nullable=True),
        sa.Column("last_ts", sa.BigInteger, nullable=True),
        sqlite_with_rowid=False,
    )


open_rollups = sa.Table(
    "open_rollups",
    metadata,
    sa.Column("station_id", BigId, primary_key=True, autoincrement=False),
    sa.Column("since", sa.BigInteger, nullable=False),
    # The start of the open bucket of each rollup table (column named after the table).
    sa.Column("rollups_1m", sa.BigInteger, nullable=True),
    sa.Column("rollups_1h", sa.BigInteger, nullable=True),
    sa.Column("rollups_10m", sa.BigInteger, nullable=True),
)

rollups_1m = rollup_table("rollups_1m")
rollups_10m = rollup_table("rollups_10m")
rollups_1h = rollup_table("rollups_1h")

MINUTE_US = 60_000_000
TEN_MINUTES_US = 600_000_000
HOUR_US = 3_600_000_000
ROLLUPS: tuple[tuple[sa.Table, int], ...] = (
    (rollups_1m, MINUTE_US),
    (rollups_10m, TEN_MINUTES_US),
    (rollups_1h, HOUR_US),
)
"""Each rollup level with its bucket width in microseconds, finest first."""
