"""PostgreSQL: covering indexes on the rollups, so a trend reads them index-only.

On PostgreSQL a rollup table's rows lie in write order, interleaved across tags, and a
30-day trend touched thousands of scattered pages; an index on (tag_id, bucket) that
includes every aggregate column turns that into one range scan. SQLite's WITHOUT ROWID
tables are already stored in key order: nothing to do there.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = (
    '"count", value_count, good_count, "sum", "min", min_ts, "max", max_ts, '
    '"first", first_ts, "last", last_ts'
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ("rollups_1m", "rollups_1h"):
        op.execute(
            f"CREATE INDEX ix_{table}_covering ON {table} (tag_id, bucket) INCLUDE ({COLUMNS})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ("rollups_1m", "rollups_1h"):
        op.execute(f"DROP INDEX ix_{table}_covering")
