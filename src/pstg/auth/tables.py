"""The auth tables as SQLAlchemy Core objects; migration 0004 owns their DDL.

They live on `pstg.storage.schema.metadata` so the schema test compares them with a migrated
database too. Times are BIGINT microseconds since the Unix epoch, UTC (pstg.storage.rows).

- `users`: a name, an argon2 password hash, a role (pstg.auth.roles.Role's number), an
  enabled flag, the count of failed logins since the last success, and the token key that
  every access token of the user carries (migration 0009; new with each new password).
- `api_tokens`: long-lived tokens for machines, stored only as the SHA-256 of the token, with
  an optional role (migration 0009) that caps the owner's: NULL acts with the owner's role.
- `sessions`: browser sessions of the web console (migration 0013): the SHA-256 of the
  cookie's random token, the user's token key at login (a new password ends the session),
  the client's address, and the times that bound it (pstg.auth.sessions).
- `settings`: small key/value pairs shared by every process on the database (the JWT secret).
"""

from __future__ import annotations

import sqlalchemy as sa

from pstg.storage.schema import BigId, metadata

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.SmallInteger, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("last_login_at", sa.BigInteger, nullable=True),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_failed_at", sa.BigInteger, nullable=True),
    # Nullable only for the migration's sake: every user gets one (0009 fills the old rows).
    sa.Column("token_key", sa.String(32), nullable=True),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", BigId, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=True),
    sa.Column("revoked_at", sa.BigInteger, nullable=True),
    sa.Column("last_used_at", sa.BigInteger, nullable=True),
    sa.Column("role", sa.SmallInteger, nullable=True),
    sa.Index("ix_api_tokens_user_id", "user_id"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", BigId, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("token_key", sa.String(32), nullable=False),
    sa.Column("source", sa.String(256), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("last_seen_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("ended_at", sa.BigInteger, nullable=True),
    sa.Index("ix_sessions_user_id", "user_id"),
)

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
