"""The alarm tables (migration 0006), on the shared metadata so the migration test covers them.

- `alarm_states`: each alarm's lifecycle as `AlarmEngine.snapshot()` gives it, so states
  survive a restart;
- `alarm_journal`: every transition, with time, value, user and comment.
"""

from __future__ import annotations

import sqlalchemy as sa

from pstg.storage.schema import BigId, metadata

alarm_states = sa.Table(
    "alarm_states",
    metadata,
    sa.Column("station_id", BigId, sa.ForeignKey("stations.id"), primary_key=True),
    sa.Column("alarm_id", sa.String(200), primary_key=True),
    sa.Column("snapshot", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

alarm_journal = sa.Table(
    "alarm_journal",
    metadata,
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
    sa.Index("ix_alarm_journal_ts", "ts"),
    sa.Index("ix_alarm_journal_alarm_ts", "alarm_id", "ts"),
)
