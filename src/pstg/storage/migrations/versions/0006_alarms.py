"""Alarms: the current state of each alarm (survives a restart) and the alarm journal.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alarm_states",
        sa.Column("station_id", BigId, sa.ForeignKey("stations.id"), primary_key=True),
        sa.Column("alarm_id", sa.String(200), primary_key=True),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "alarm_journal",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("station_id", BigId, sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("alarm_id", sa.String(200), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("previous", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("value", sa.JSON, nullable=True),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_alarm_journal_ts", "alarm_journal", ["ts"])
    op.create_index("ix_alarm_journal_alarm_ts", "alarm_journal", ["alarm_id", "ts"])


def downgrade() -> None:
    op.drop_table("alarm_journal")
    op.drop_table("alarm_states")
