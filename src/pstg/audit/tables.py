"""The audit table as a SQLAlchemy Core object; migration 0005 owns its DDL.

It lives on `pstg.storage.schema.metadata` so the schema test compares it with a migrated
database too. `ts` is BIGINT microseconds since the Unix epoch, UTC (pstg.storage.rows).

- `audit_log`: one row per action by a person or a token, hash-chained (see pstg.audit.log).
  Ids are given by the writer, 1, 2, 3, ... without gaps, so a missing id is a deleted row;
  `old_value` / `new_value` hold JSON text; `prev_hash` and `hash` are SHA-256 hex digests.
"""

from __future__ import annotations

import sqlalchemy as sa

from pstg.storage.schema import BigId, metadata

audit_log = sa.Table(
    "audit_log",
    metadata,
    # Not a sequence: PostgreSQL sequences skip values on rollback, and a gap must mean a
    # deleted row. The writer takes the last id + 1 under the audit lock.
    sa.Column("id", BigId, primary_key=True, autoincrement=False),
    sa.Column("ts", sa.BigInteger, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=True),
    sa.Column("via", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("old_value", sa.Text, nullable=True),
    sa.Column("new_value", sa.Text, nullable=True),
    sa.Column("result", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.CHAR(64), nullable=False),
    sa.Column("hash", sa.CHAR(64), nullable=False),
    sa.UniqueConstraint("hash", name="uq_audit_log_hash"),
    sa.CheckConstraint("result IN ('ok', 'denied', 'failed')", name="ck_audit_log_result"),
    sa.Index("ix_audit_log_ts", "ts"),
    sa.Index("ix_audit_log_actor_ts", "actor", "ts"),
    sa.Index("ix_audit_log_action_ts", "action", "ts"),
)
