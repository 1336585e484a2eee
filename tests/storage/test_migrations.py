"""Migrations on both backends: up from empty and from each earlier revision, idempotent, the
result matching schema.py; and `pstg run`'s refusal of an out-of-date schema."""

from random import Random

import pytest
import sqlalchemy as sa

# The alarm, audit, auth, command and notification tables join schema.metadata when their
# modules are imported.
import pstg.alarms.tables
import pstg.audit.tables
import pstg.auth.tables
import pstg.commands.tables
import pstg.notify.tables  # noqa: F401
from pstg.storage.columns import SampleColumns
from pstg.storage.database import create_engine
from pstg.storage.migrate import (
    SchemaOutOfDate,
    check_current,
    current_revision,
    head_revision,
    revisions,
    upgrade,
)
from pstg.storage.rollup import Aggregates
from pstg.storage.rollup_sql import merge_rollups
from pstg.storage.rows import StoredRow
from pstg.storage.schema import HOUR_US, MINUTE_US, TEN_MINUTES_US, metadata
from tests.storage.test_rollups import T0, expected, stored_rollups


def test_upgrade_from_empty_is_idempotent(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert current_revision(engine) is None
        assert upgrade(engine) == (None, head_revision())
        assert upgrade(engine) == (head_revision(), head_revision())
        check_current(engine, "the test database")
    finally:
        engine.dispose()


@pytest.mark.parametrize("start", revisions()[:-1])
def test_upgrade_from_each_earlier_revision(database_url: str, start: str) -> None:
    engine = create_engine(database_url)
    try:
        upgrade(engine, start)
        assert current_revision(engine) == start
        with pytest.raises(SchemaOutOfDate, match=f"revision {start}.*run `pstg migrate`"):
            check_current(engine, "db")
        assert upgrade(engine) == (start, head_revision())
        check_current(engine, "db")
    finally:
        engine.dispose()


def test_migrated_tables_match_the_schema_module(engine: sa.Engine) -> None:
    inspector = sa.inspect(engine)
    names = set(inspector.get_table_names())
    assert set(metadata.tables) <= names
    for table in metadata.tables.values():
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        assert columns == set(table.columns.keys()), table.name
        key = inspector.get_pk_constraint(table.name)["constrained_columns"]
        assert key == [column.name for column in table.primary_key.columns], table.name


def test_sqlite_time_series_tables_are_without_rowid(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'pstg.db'}")
    upgrade(engine)
    with engine.connect() as connection:
        for name in ("samples", "text_samples", "rollups_1m", "rollups_10m", "rollups_1h"):
            sql = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = ?", (name,)
            ).scalar_one()
            assert sql.rstrip().endswith("WITHOUT ROWID"), name
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_postgresql_samples_are_partitioned(postgres_database) -> None:
    postgres_database.reset()
    engine = create_engine(postgres_database.url)
    upgrade(engine)
    with engine.connect() as connection:
        strategy = connection.exec_driver_sql(
            "SELECT partstrat FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = 'samples'"
        ).scalar_one()
    assert strategy == "r"  # range
    engine.dispose()


def test_check_current_on_an_empty_and_on_a_foreign_database(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with pytest.raises(SchemaOutOfDate, match="no PSTG schema yet: run `pstg migrate`"):
            check_current(engine, "db")
        upgrade(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
        with pytest.raises(SchemaOutOfDate, match="9999, which this PSTG does not know"):
            check_current(engine, "db")
    finally:
        engine.dispose()


def test_the_ten_minute_rollups_are_filled_from_the_minutes(database_url: str) -> None:
    """0014 fills rollups_10m from rollups_1m by the merge rules (counts add, extremes with
    the earliest time among equals, first and last by time), and marks the 10 minutes around a
    crashed writer's open minute open too, so the next start recomputes them."""
    random = Random(14)
    samples = [
        (tag, T0 + second * 1_000_000, value, random.choice([0, 0, 1]))
        for tag in (1, 2)
        for second in sorted(random.sample(range(3 * 3600), 900))
        # few distinct values (ties for min and max), some missing
        for value in [random.choice([None, -1.0, 0.0, 2.5, 2.5, 7.0])]
    ]
    engine = create_engine(database_url)
    try:
        upgrade(engine, "0013")
        minutes = Aggregates.of_samples_grouped(
            SampleColumns.of_rows(
                [StoredRow(tag, ts, value, None, quality, 0) for tag, ts, value, quality in samples]
            ),
            MINUTE_US,
        )
        open_minute = T0 + 13 * MINUTE_US
        with engine.begin() as connection:
            merge_rollups(connection, "rollups_1m", minutes)
            connection.exec_driver_sql(
                "INSERT INTO open_rollups (station_id, since, rollups_1m, rollups_1h) "
                f"VALUES (1, {T0}, {open_minute}, {T0 - T0 % HOUR_US})"
            )
        upgrade(engine)
        with engine.connect() as connection:
            got = stored_rollups(connection, "rollups_10m")
            marked = connection.exec_driver_sql("SELECT rollups_10m FROM open_rollups").scalar()
        want = expected(samples, TEN_MINUTES_US)
        assert got.keys() == want.keys()
        for key, aggregate in want.items():
            assert got[key]["sum"] == pytest.approx(aggregate["sum"], rel=1e-12)
            assert {**got[key], "sum": None} == {**aggregate, "sum": None}, key
        assert marked == open_minute - open_minute % TEN_MINUTES_US
    finally:
        engine.dispose()
