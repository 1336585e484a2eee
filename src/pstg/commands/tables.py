"""The command journal (migration 0010), on the shared metadata so the migration test covers it.

One row per command, from its selection to its outcome: who, what value, which state it
reached and why. Times are µs since the epoch, as everywhere in the database.
"""

from __future__ import annotations

import sqlalchemy as sa

from pstg.storage.schema import BigId, metadata

commands = sa.Table(
    "commands",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("station_id", BigId, sa.ForeignKey("stations.id"), nullable=False),
    sa.Column("tag", sa.String(128), nullable=False),
    sa.Column("value", sa.JSON, nullable=True),
    sa.Column("label", sa.String(200), nullable=True),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("username", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=True),
    sa.Column("mode", sa.String(8), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("rule", sa.String(32), nullable=True),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("selected_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=True),
    sa.Column("operated_at", sa.BigInteger, nullable=True),
    sa.Column("finished_at", sa.BigInteger, nullable=True),
    sa.Column("old_value", sa.JSON, nullable=True),
    sa.Column("read_back", sa.JSON, nullable=True),
    sa.Column("exception_code", sa.Integer, nullable=True),
    sa.Column("seconds", sa.Float, nullable=True),
    sa.Index("ix_commands_station_id", "station_id", "id"),
    sa.Index("ix_commands_tag_id", "tag", "id"),
)
