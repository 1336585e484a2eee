"""The notification journal (migration 0012), on the shared metadata so the migration test
covers it: one row per delivery attempt, and one per notification that never got a try (a
full queue, a stop). Times are µs since the epoch, as everywhere in the database.
"""

from __future__ import annotations

import sqlalchemy as sa

from pstg.storage.schema import BigId, metadata

notification_attempts = sa.Table(
    "notification_attempts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.BigInteger, nullable=False),
    sa.Column("station_id", BigId, sa.ForeignKey("stations.id"), nullable=False),
    sa.Column("notification_id", sa.String(40), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("recipient", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    # The alarm, or the first of a digest's (`alarms` lists them all).
    sa.Column("alarm_id", sa.String(200), nullable=True),
    sa.Column("alarms", sa.JSON, nullable=True),
    sa.Column("route", sa.String(64), nullable=True),
    sa.Column("level", sa.Integer, nullable=True),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("result", sa.String(16), nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("ix_notification_attempts_station_ts", "station_id", "ts"),
    sa.Index("ix_notification_attempts_alarm_ts", "alarm_id", "ts"),
)
