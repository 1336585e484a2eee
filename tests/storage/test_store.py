"""Batch inserts on both backends: idempotent, text apart, partitions on demand."""

import sqlalchemy as sa

from pstg.storage.rows import StoredRow
from pstg.storage.store import DAY_US, SampleStore, partition_name

T0 = 1_780_000_000_000_000  # 2026-05-28, microseconds


def rows(tag_id: int, count: int, start: int = T0, step: int = 1_000_000) -> list[StoredRow]:
    return [StoredRow(tag_id, start + i * step, float(i), None, 0, 0) for i in range(count)]


def stored(engine: sa.Engine, table: str = "samples") -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.exec_driver_sql(
                f"SELECT tag_id, ts, value, quality, reason FROM {table} ORDER BY tag_id, ts"
            )
        ]


def test_a_batch_is_stored_once_however_often_it_is_written(engine: sa.Engine) -> None:
    store = SampleStore(engine)
    batch = rows(1, 100) + rows(2, 50)
    assert store.write(batch[:70]) == 70
    assert store.write(batch) == 80  # the overlap is skipped, the rest stored
    assert store.write(batch) == 0
    assert stored(engine) == [(r.tag_id, r.ts, r.value, 0, 0) for r in sorted(batch)]
    with engine.connect() as connection:
        counted = connection.exec_driver_sql('SELECT SUM("count") FROM rollups_1m').scalar()
    assert counted == 150  # rollups never count a replayed row twice


def test_duplicates_inside_one_batch_keep_the_last(engine: sa.Engine) -> None:
    store = SampleStore(engine)
    first = StoredRow(1, T0, 1.0, None, 0, 0)
    second = StoredRow(1, T0, 2.0, None, 0, 0)
    assert store.write([first, second]) == 1
    assert stored(engine) == [(1, T0, 2.0, 0, 0)]


def test_bad_samples_and_text_samples(engine: sa.Engine) -> None:
    store = SampleStore(engine)
    batch = [
        StoredRow(1, T0, None, None, 2, 1),  # bad: comm failure, no value
        StoredRow(1, T0 + 1, 4.5, None, 0, 0),
        StoredRow(9, T0, None, "Lift Station 1", 0, 0),
    ]
    assert store.write(batch) == 3
    assert stored(engine) == [(1, T0, None, 2, 1), (1, T0 + 1, 4.5, 0, 0)]
    assert stored(engine, "text_samples") == [(9, T0, "Lift Station 1", 0, 0)]
    assert store.write(batch) == 0


def test_extreme_floats_round_trip_exactly(engine: sa.Engine) -> None:
    values = [0.1, -0.0, 1e308, -1e-308, 2.0**53 + 1, 123456.789012345]
    batch = [StoredRow(1, T0 + i, v, None, 0, 0) for i, v in enumerate(values)]
    SampleStore(engine).write(batch)
    assert [row[2] for row in stored(engine)] == values


def test_postgresql_partitions_are_made_for_the_days_written(postgres_database) -> None:
    from pstg.storage.database import create_engine
    from pstg.storage.migrate import upgrade

    postgres_database.reset()
    engine = create_engine(postgres_database.url)
    upgrade(engine)
    store = SampleStore(engine)
    store.write(rows(1, 3, start=T0, step=DAY_US))  # three days
    with engine.connect() as connection:
        children = set(
            connection.exec_driver_sql(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'samples'"
            ).scalars()
        )
    days = {(T0 + n * DAY_US) // DAY_US for n in range(3)}
    assert children == {partition_name(day) for day in days}
    # Another store (another gateway) finds them there and carries on.
    assert SampleStore(engine).write(rows(2, 3, start=T0, step=DAY_US)) == 3
    engine.dispose()


def test_postgresql_a_late_row_for_a_day_retention_dropped_gets_its_partition_back(
    postgres_database,
) -> None:
    from pstg.storage.database import create_engine
    from pstg.storage.migrate import upgrade

    postgres_database.reset()
    engine = create_engine(postgres_database.url)
    upgrade(engine)
    store = SampleStore(engine)
    store.write(rows(1, 2))
    with engine.begin() as connection:  # what retention does to an old day
        connection.exec_driver_sql(f"DROP TABLE {partition_name(T0 // DAY_US)}")
    assert store.write(rows(2, 2)) == 2
    engine.dispose()
