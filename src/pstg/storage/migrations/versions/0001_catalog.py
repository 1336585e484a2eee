"""Catalog: stations, devices, tags (kept when they leave the config), events.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stations",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "devices",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("station_id", BigId, sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("driver", sa.String(64), nullable=False),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sa.Column("unit_id", sa.Integer, nullable=False),
        sa.Column("retired_at", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("station_id", "key", name="uq_devices_station_key"),
    )
    op.create_table(
        "tags",
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
    op.create_table(
        "events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("station_id", BigId, sa.ForeignKey("stations.id"), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
    )
    op.create_index("ix_events_ts", "events", ["ts"])
    op.create_index("ix_events_kind_ts", "events", ["kind", "ts"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("tags")
    op.drop_table("devices")
    op.drop_table("stations")
