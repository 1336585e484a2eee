"""The notification journal: every delivery attempt of an alarm notification (pstg.notify).

Revision ID: 0012
Revises: 0010 (the web console's sessions, 0013, follow it)
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notification_attempts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("station_id", BigId, sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("notification_id", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("alarm_id", sa.String(200), nullable=True),
        sa.Column("alarms", sa.JSON, nullable=True),
        sa.Column("route", sa.String(64), nullable=True),
        sa.Column("level", sa.Integer, nullable=True),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_notification_attempts_station_ts", "notification_attempts", ["station_id", "ts"]
    )
    op.create_index(
        "ix_notification_attempts_alarm_ts", "notification_attempts", ["alarm_id", "ts"]
    )


def downgrade() -> None:
    op.drop_table("notification_attempts")
