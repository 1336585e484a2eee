"""Time series: samples (partitioned by day on PostgreSQL), text samples, 1-minute and 1-hour
rollups. WITHOUT ROWID on SQLite: the (tag_id, ts) key is the storage order.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Double = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "samples",
        sa.Column("tag_id", BigId, primary_key=True),
        sa.Column("ts", sa.BigInteger, primary_key=True),
        sa.Column("value", Double, nullable=True),
        sa.Column("quality", sa.SmallInteger, nullable=False),
        sa.Column("reason", sa.SmallInteger, nullable=False),
        sqlite_with_rowid=False,
        postgresql_partition_by="RANGE (ts)",
    )
    op.create_table(
        "text_samples",
        sa.Column("tag_id", BigId, primary_key=True),
        sa.Column("ts", sa.BigInteger, primary_key=True),
        sa.Column("value", sa.Text, nullable=True),
        sa.Column("quality", sa.SmallInteger, nullable=False),
        sa.Column("reason", sa.SmallInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    for name in ("rollups_1m", "rollups_1h"):
        op.create_table(
            name,
            sa.Column("tag_id", BigId, primary_key=True),
            sa.Column("bucket", sa.BigInteger, primary_key=True),
            sa.Column("count", sa.Integer, nullable=False),
            sa.Column("value_count", sa.Integer, nullable=False),
            sa.Column("good_count", sa.Integer, nullable=False),
            sa.Column("sum", Double, nullable=True),
            sa.Column("min", Double, nullable=True),
            sa.Column("min_ts", sa.BigInteger, nullable=True),
            sa.Column("max", Double, nullable=True),
            sa.Column("max_ts", sa.BigInteger, nullable=True),
            sa.Column("first", Double, nullable=True),
            sa.Column("first_ts", sa.BigInteger, nullable=True),
            sa.Column("last", Double, nullable=True),
            sa.Column("last_ts", sa.BigInteger, nullable=True),
            sqlite_with_rowid=False,
        )


def downgrade() -> None:
    for name in ("rollups_1h", "rollups_1m", "text_samples", "samples"):
        op.drop_table(name)
