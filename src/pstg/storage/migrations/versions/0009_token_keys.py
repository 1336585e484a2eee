"""Token keys and token roles: `users.token_key`, random per user and new with each new
password, which every access token carries (so a password change, or a user created anew
under an old id, ends the old access tokens); `api_tokens.role`, an optional role below the
owner's (NULL: the owner's role).

Existing users get a random key here; access tokens issued before this revision carry none
and are refused (log in again).

Revision ID: 0009
Revises: 0008
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("token_key", sa.String(32), nullable=True))
    op.add_column("api_tokens", sa.Column("role", sa.SmallInteger, nullable=True))
    connection = op.get_bind()
    users = sa.table("users", sa.column("id", sa.BigInteger), sa.column("token_key", sa.String))
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            users.update().where(users.c.id == user_id).values(token_key=secrets.token_hex(16))
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("role")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_key")
