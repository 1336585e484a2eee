"""The rollups equal aggregates of the stored samples, however the rows were batched,
ordered or replayed (property test on both backends)."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pstg.storage.rows import GOOD_CODE, StoredRow
from pstg.storage.schema import ROLLUPS, rollups_1m
from pstg.storage.store import SampleStore

T0 = 1_709_334_000_000_000  # 2024-03-01 23:00 UTC: three hours cross midnight (two partitions)
SPAN_TENTHS = 3 * 3600 * 10
ROLLUP_COLUMNS = tuple(column.name for column in rollups_1m.columns)[2:]  # after the key

values = st.one_of(
    st.none(),
    st.integers(-3, 3).map(float),  # few distinct values: ties for min and max
    st.floats(-1e6, 1e6, allow_nan=False),
)
rows = st.builds(
    StoredRow,
    tag_id=st.sampled_from([1, 2, 3]),
    ts=st.one_of(
        st.integers(0, SPAN_TENTHS),  # anywhere in the three hours
        # or crowded into a few minutes at hour edges, so buckets get many rows and ties
        st.tuples(st.sampled_from([0, 59, 60, 119, 179]), st.integers(0, 599)).map(
            lambda minute_tenths: minute_tenths[0] * 600 + minute_tenths[1]
        ),
    ).map(lambda tenths: T0 + tenths * 100_000),
    value=values,
    text=st.none(),
    quality=st.sampled_from([0, 0, 1, 2]),
    reason=st.just(0),
)


def expected(samples: Sequence[Any], width: int) -> dict[tuple[int, int], dict[str, Any]]:
    """Rollups computed the slow, obvious way from the stored samples."""
    groups: dict[tuple[int, int], list[tuple[int, float | None, int]]] = defaultdict(list)
    for tag_id, ts, value, quality in samples:
        groups[(tag_id, ts - ts % width)].append((ts, value, quality))
    out: dict[tuple[int, int], dict[str, Any]] = {}
    for key, members in groups.items():
        with_value = sorted((ts, v) for ts, v, _ in members if v is not None)
        agg: dict[str, Any] = {
            "count": len(members),
            "value_count": len(with_value),
            "good_count": sum(q == GOOD_CODE for _, _, q in members),
            "sum": sum(v for _, v in with_value) if with_value else None,
        }
        agg.update(dict.fromkeys(ROLLUP_COLUMNS[4:]))
        if with_value:
            low = min(v for _, v in with_value)
            high = max(v for _, v in with_value)
            agg["min"], agg["min_ts"] = low, min(ts for ts, v in with_value if v == low)
            agg["max"], agg["max_ts"] = high, min(ts for ts, v in with_value if v == high)
            agg["first_ts"], agg["first"] = with_value[0]
            agg["last_ts"], agg["last"] = with_value[-1]
        out[key] = agg
    return out


def stored_rollups(connection: sa.Connection, table: str) -> dict[tuple[int, int], dict[str, Any]]:
    columns = ", ".join(f'"{c}"' for c in ROLLUP_COLUMNS)
    result = connection.exec_driver_sql(f"SELECT tag_id, bucket, {columns} FROM {table}")
    return {(r[0], r[1]): dict(zip(ROLLUP_COLUMNS, r[2:], strict=True)) for r in result}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_rollups_equal_aggregates_of_the_stored_samples(engine: sa.Engine, data) -> None:
    with engine.begin() as connection:
        for table in ("samples", *(table.name for table, _ in ROLLUPS)):
            connection.exec_driver_sql(f"DELETE FROM {table}")
    batch = data.draw(st.lists(rows, max_size=120))
    order = data.draw(st.permutations(batch))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(order)), max_size=6)))
    batches = [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]
    store = SampleStore(engine)
    for part in batches:
        store.write(part)
        if data.draw(st.booleans()):
            store.write(part)  # a replay: nothing is counted twice

    with engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT count(*) FROM samples").scalar()
        assert stored == len({(r.tag_id, r.ts) for r in batch})
    assert_rollups_match_samples(engine)


def assert_rollups_match_samples(engine: sa.Engine) -> None:
    """Every rollup level holds exactly the aggregates of the stored samples."""
    with engine.connect() as connection:
        samples = connection.exec_driver_sql("SELECT tag_id, ts, value, quality FROM samples").all()
        for table, width in ROLLUPS:
            want, got = expected(samples, width), stored_rollups(connection, table.name)
            assert got.keys() == want.keys(), table.name
            for key, agg in want.items():
                if agg["sum"] is None:
                    assert got[key]["sum"] is None, key
                else:
                    assert got[key]["sum"] == pytest.approx(agg["sum"], rel=1e-9, abs=1e-6), key
                assert {**got[key], "sum": None} == {**agg, "sum": None}, (table.name, key)
