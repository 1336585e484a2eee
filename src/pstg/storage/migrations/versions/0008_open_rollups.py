"""Open rollup buckets: a row per station whose writer keeps its current rollup buckets in
memory, with the start of the open bucket of each rollup table, so the next start knows
whether they were written (a clean stop deletes the row) or must be recomputed from the raw
samples (a crash left it).

Revision ID: 0008
Revises: 0006 (on main after 0007: set down_revision to the revision before it when merging)
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "open_rollups",
        sa.Column("station_id", BigId, primary_key=True, autoincrement=False),
        sa.Column("since", sa.BigInteger, nullable=False),
        sa.Column("rollups_1m", sa.BigInteger, nullable=True),
        sa.Column("rollups_1h", sa.BigInteger, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("open_rollups")
