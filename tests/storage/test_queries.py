"""Reading the time series on both backends: pages, trends (M4 buckets, levels, gaps),
summaries and latest values, checked against the same computed in Python from the rows."""

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from pstg.model import Quality, QualityReason
from pstg.storage.columns import SampleColumns
from pstg.storage.queries import SeriesPoint, TrendBucket, latest, series, summary, trend
from pstg.storage.retention import apply_retention
from pstg.storage.rows import QUALITY_CODES, REASON_CODES, StoredRow, from_micros, to_micros
from pstg.storage.schema import stations, tags
from pstg.storage.store import SampleStore

T0 = datetime(2024, 3, 1, tzinfo=UTC)
GOOD, BAD = QUALITY_CODES[Quality.GOOD], QUALITY_CODES[Quality.BAD]
TIMEOUT = REASON_CODES[QualityReason.TIMEOUT]
S = timedelta(seconds=1)
MIN = timedelta(minutes=1)
H = timedelta(hours=1)


def at(offset: timedelta) -> int:
    return to_micros(T0 + offset)


def good(tag_id: int, offset: timedelta, value: float) -> StoredRow:
    return StoredRow(tag_id, at(offset), value, None, GOOD, 0)


def bad(tag_id: int, offset: timedelta, value: float | None = None) -> StoredRow:
    return StoredRow(tag_id, at(offset), value, None, BAD, TIMEOUT)


def noisy(tag_id: int, count: int, step: timedelta, seed: int = 1) -> list[StoredRow]:
    """Random values with some bad samples (with and without a value)."""
    rnd = random.Random(seed)
    rows = []
    for i in range(count):
        if rnd.random() < 0.1:
            rows.append(bad(tag_id, i * step, rnd.choice([None, 42.0])))
        else:
            rows.append(good(tag_id, i * step, round(rnd.uniform(-50, 50), 3)))
    return rows


def add_text_tag(engine: sa.Engine, tag_id: int) -> None:
    with engine.begin() as connection:
        station = connection.execute(
            sa.insert(stations).values(key="ls1", created_at=0).returning(stations.c.id)
        ).scalar_one()
        tag = {"name": "status", "device_key": "plc", "source": "holding_register"}
        connection.execute(
            sa.insert(tags).values(
                id=tag_id, station_id=station, address=0, data_type="string",
                created_at=0, updated_at=0, **tag,
            )
        )  # fmt: skip


def m4(rows: list[StoredRow], start: int, end: int, points: int) -> list[tuple[object, ...]]:
    """Per bucket (first, last, min, max, avg, count, value_count, good_count) from raw rows."""
    span = end - start
    out: list[tuple[object, ...]] = []
    for i in range(points):
        low, high = start + -(-i * span // points), start + -(-(i + 1) * span // points)
        inside = sorted((r for r in rows if low <= r.ts < high), key=lambda r: r.ts)
        values = [r.value for r in inside if r.value is not None]
        good_count = sum(r.quality == GOOD for r in inside)
        if values:
            average = pytest.approx(sum(values) / len(values))
            extremes = (values[0], values[-1], min(values), max(values), average)
            out.append((*extremes, len(inside), len(values), good_count))
        else:
            out.append((None, None, None, None, None, len(inside), 0, good_count))
    return out


def shape(buckets: list[TrendBucket]) -> list[tuple[object, ...]]:
    return [
        (b.first, b.last, b.min, b.max, b.avg, b.count, b.value_count, b.good_count)
        for b in buckets
    ]


# --- series ----------------------------------------------------------------------------------


def test_series_pages_by_time(engine: sa.Engine) -> None:
    rows = [good(1, i * S, float(i)) for i in range(25)] + [good(2, i * S, -1.0) for i in range(5)]
    rows[3] = bad(1, 3 * S)
    SampleStore(engine).write(rows)
    start, end = T0, T0 + 25 * S

    first = series(engine, 1, start, end, limit=10)
    assert [p.ts for p in first.points] == [T0 + i * S for i in range(10)]
    assert first.points[3] == SeriesPoint(T0 + 3 * S, None, Quality.BAD, QualityReason.TIMEOUT)
    assert first.points[4] == SeriesPoint(T0 + 4 * S, 4.0, Quality.GOOD, QualityReason.NONE)
    assert first.next_after == T0 + 9 * S
    second = series(engine, 1, start, end, limit=10, after=first.next_after)
    assert [p.value for p in second.points] == [float(i) for i in range(10, 20)]
    third = series(engine, 1, start, end, limit=10, after=second.next_after)
    assert [p.value for p in third.points] == [float(i) for i in range(20, 25)]
    assert third.next_after is None

    exactly = series(engine, 1, start, T0 + 20 * S, limit=10, after=first.next_after)
    assert len(exactly.points) == 10
    assert exactly.next_after is None  # a full last page says so, no empty page follows
    assert series(engine, 1, T0 + 5 * S, T0 + 7 * S).points[-1].ts == T0 + 6 * S  # end excluded
    assert series(engine, 1, T0 + H, T0 + 2 * H) == ([], None)


def test_series_of_a_text_tag_reads_the_text(engine: sa.Engine) -> None:
    add_text_tag(engine, 7)
    SampleStore(engine).write(
        [
            StoredRow(7, at(0 * S), None, "RUN", GOOD, 0),
            StoredRow(7, at(5 * S), None, "STOP", GOOD, 0),
            StoredRow(7, at(9 * S), None, None, BAD, TIMEOUT),
        ]
    )
    page = series(engine, 7, T0, T0 + MIN)
    assert [(p.value, p.quality) for p in page.points] == [
        ("RUN", Quality.GOOD),
        ("STOP", Quality.GOOD),
        (None, Quality.BAD),
    ]
    assert latest(engine, [7])[7].value is None
    with pytest.raises(ValueError, match="text"):
        trend(engine, 7, T0, T0 + MIN, 10)


# --- trend -----------------------------------------------------------------------------------


def test_trend_levels_follow_the_bucket_width(engine: sa.Engine) -> None:
    assert trend(engine, 1, T0, T0 + 10 * MIN, 1000).source == "raw"
    assert trend(engine, 1, T0, T0 + timedelta(days=2), 1000).source == "rollups_1m"
    assert trend(engine, 1, T0, T0 + timedelta(days=30), 1000).source == "rollups_10m"
    assert trend(engine, 1, T0, T0 + timedelta(days=60), 1000).source == "rollups_1h"
    assert trend(engine, 1, T0, T0 + H, 60).source == "rollups_1m"  # exactly a minute
    assert trend(engine, 1, T0, T0 + H, 61).source == "raw"
    assert trend(engine, 1, T0, T0 + H, 6).source == "rollups_10m"  # exactly ten minutes
    assert trend(engine, 1, T0, T0 + H, 7).source == "rollups_1m"
    assert trend(engine, 1, T0, T0 + H, 1).source == "rollups_1h"


@pytest.mark.parametrize(
    ("step", "count", "span", "points", "source"),
    [
        (S, 600, 10 * MIN, 60, "raw"),  # 10 s buckets
        (S, 600, 10 * MIN, 13, "raw"),  # buckets of 46.15 s: uneven edges, exact from raw
        (10 * S, 720, 2 * H, 24, "rollups_1m"),  # 5-minute buckets
        (MIN, 720, 12 * H, 36, "rollups_10m"),  # 20-minute buckets
        (MIN, 2880, timedelta(days=2), 24, "rollups_1h"),  # 2-hour buckets
    ],
)
def test_trend_buckets_equal_m4_of_the_raw_samples(
    engine: sa.Engine, step, count, span, points, source
) -> None:
    rows = noisy(1, count, step) + noisy(2, 50, step, seed=2)
    SampleStore(engine).write(rows)
    result = trend(engine, 1, T0, T0 + span, points)
    assert result.source == source
    assert len(result.buckets) == points
    assert result.buckets[0].start == T0
    assert result.buckets[-1].end == T0 + span
    assert all(a.end == b.start for a, b in zip(result.buckets, result.buckets[1:], strict=False))
    mine = [r for r in rows if r.tag_id == 1]
    assert shape(result.buckets) == m4(mine, at(0 * S), at(span), points)
    assert not any(b.gap or b.carried for b in result.buckets)


def test_a_hole_longer_than_the_staleness_is_a_gap(engine: sa.Engine) -> None:
    # Every minute for an hour, nothing for 30 minutes, then every minute again.
    rows = [good(1, i * MIN, 1.0 + i) for i in range(60)]
    rows += [good(1, 90 * MIN + i * MIN, 5.0) for i in range(30)]
    SampleStore(engine).write(rows)
    result = trend(engine, 1, T0, T0 + 2 * H, 24)  # 5-minute buckets from rollups_1m
    assert result.source == "rollups_1m"
    assert result.staleness == 450.0
    # The last sample is at 59 min: 1 and 6 min old at the next two bucket starts (< 7.5 min).
    assert [b.carried for b in result.buckets[12:18]] == [True, True] + [False] * 4
    assert [b.gap for b in result.buckets[12:18]] == [False, False] + [True] * 4
    carried = result.buckets[13]
    assert (carried.first, carried.last, carried.min, carried.max, carried.avg) == (60.0,) * 5
    assert carried.count == 0
    assert all(b.min is None and b.count == 0 for b in result.buckets[14:18])
    assert not any(b.gap or b.carried for b in result.buckets[:12] + result.buckets[18:])

    assert [b.gap for b in trend(engine, 1, T0, T0 + 2 * H, 24, staleness=0).buckets[12:18]] == [
        True
    ] * 6
    longer = trend(engine, 1, T0, T0 + 2 * H, 24, staleness=3600).buckets[12:18]
    assert all(b.carried and b.avg == 60.0 for b in longer)


def test_a_flat_value_between_heartbeats_is_carried(engine: sa.Engine) -> None:
    SampleStore(engine).write([good(1, 0 * S, 5.0), good(1, 300 * S, 5.0)])
    result = trend(engine, 1, T0, T0 + 10 * MIN, 60)  # raw, 10 s buckets
    assert [b.count for b in result.buckets if b.count] == [1, 1]
    assert all(b.carried for i, b in enumerate(result.buckets) if i not in (0, 30))
    assert all(b.avg == 5.0 and not b.gap for b in result.buckets)
    # The value stored before the range is carried into it (looked up, not in any bucket).
    later = trend(engine, 1, T0 + 305 * S, T0 + 905 * S, 5)  # 2-minute buckets
    assert all(b.carried and b.first == 5.0 for b in later.buckets[:4])
    assert later.buckets[4].gap  # starts 485 s after the sample: past the 450 s staleness


def test_bad_samples_end_a_carried_value(engine: sa.Engine) -> None:
    SampleStore(engine).write(
        [
            good(1, 0 * S, 1.0),
            bad(1, 10 * S),  # bucket 1: bad only
            good(1, 40 * S, 2.0),
            bad(1, 45 * S),  # bucket 4: good then bad, nothing to carry
            bad(1, 70 * S),
            good(1, 75 * S, 3.0),  # bucket 7: bad then good, 3.0 carries on
        ]
    )
    buckets = trend(engine, 1, T0, T0 + 100 * S, 10).buckets
    assert [(b.count, b.gap, b.carried) for b in buckets] == [
        (1, False, False),
        (1, True, False),
        (0, True, False),
        (0, True, False),
        (2, False, False),
        (0, True, False),
        (0, True, False),
        (2, False, False),
        (0, False, True),
        (0, False, True),
    ]
    assert buckets[1].first is buckets[1].avg is None
    assert buckets[9].avg == 3.0


def test_a_month_is_read_from_ten_minute_rollups(engine: sa.Engine) -> None:
    # One value every 5 minutes for 30 days: read from 4,320 rows of 10-minute rollups, not
    # from 8,640 1-minute ones (bench/api.py measures the difference under load).
    rows = [good(1, i * 5 * MIN, float(i % 97)) for i in range(30 * 24 * 12)]
    SampleStore(engine).write(rows)
    result = trend(engine, 1, T0, T0 + timedelta(days=30), 1440)  # 30-minute buckets
    assert result.source == "rollups_10m"
    assert shape(result.buckets) == m4(rows, at(0 * S), at(timedelta(days=30)), 1440)
    month = trend(engine, 1, T0, T0 + timedelta(days=30), 1000)  # 43.2-minute buckets
    assert month.source == "rollups_10m"
    assert sum(b.count for b in month.buckets) == len(rows)
    lows = [b.min for b in month.buckets if b.min is not None]
    highs = [b.max for b in month.buckets if b.max is not None]
    assert (min(lows), max(highs)) == (0.0, 96.0)


DAY = timedelta(days=1)


def three_days(engine: sa.Engine) -> list[StoredRow]:
    """A value every 10 s for three days from T0 (all levels written), then retention as on
    the morning of the fourth day with one day of raw samples and two of 1-minute rollups."""
    rows = [good(1, i * 10 * S, float(i % 50)) for i in range(3 * 8640)]
    SampleStore(engine).write(rows)
    apply_retention(
        engine, raw=DAY.total_seconds(), minute=2 * DAY.total_seconds(), ten_minute=0, hour=0,
        now=T0 + 3 * DAY,
    )  # fmt: skip
    return rows


def within(rows: list[StoredRow], start: datetime, end: datetime) -> list[StoredRow]:
    return [row for row in rows if at(start - T0) <= row.ts < at(end - T0)]


def test_past_the_raw_retention_a_short_trend_draws_from_the_minutes(engine: sa.Engine) -> None:
    rows = three_days(engine)
    start = T0 + DAY + 6 * H  # raw samples of that day are gone
    result = trend(engine, 1, start, start + H, 360)  # 10 s buckets: the raw level
    assert result.source == "raw"
    wanted = within(rows, start, start + H)
    assert sum(b.count for b in result.buckets) == len(wanted) == 360
    assert not any(b.gap for b in result.buckets)  # each minute's value carried through it
    values = [r.value for r in wanted if r.value is not None]
    assert min(b.min for b in result.buckets if b.min is not None) == min(values)
    assert max(b.max for b in result.buckets if b.max is not None) == max(values)


def test_past_the_minutes_retention_a_trend_draws_from_ten_minutes_and_counts_nothing_twice(
    engine: sa.Engine,
) -> None:
    rows = three_days(engine)
    # 1-minute rollups are kept from T0 + 1 day on: the first day comes from 10 minutes.
    for start, end in [(T0, T0 + DAY), (T0 + 12 * H, T0 + 36 * H), (T0, T0 + 3 * DAY)]:
        result = trend(engine, 1, start, end, 144)  # 10-minute buckets or wider
        assert sum(b.count for b in result.buckets) == len(within(rows, start, end)), start
    # Buckets of 2.4 minutes choose the minutes; across the edge nothing is lost or doubled.
    across = trend(engine, 1, T0 + 20 * H, T0 + 28 * H, 200)
    assert across.source == "rollups_1m"
    assert sum(b.count for b in across.buckets) == len(within(rows, T0 + 20 * H, T0 + 28 * H))
    assert not any(b.gap for b in across.buckets)
    # A summary's minute edges fall back the same way.
    start, end = T0 + 6 * H + 30 * MIN, T0 + 30 * H + 20 * MIN
    assert summary(engine, 1, start, end).count == len(within(rows, start, end))


def test_a_young_tag_is_not_mistaken_for_one_past_its_retention(engine: sa.Engine) -> None:
    # First sample at 10 min 5 s: the coarser levels' first buckets start earlier, but they
    # hold nothing older: everything is read from the raw samples, exactly.
    rows = [good(1, 605 * S + i * 10 * S, float(i % 7)) for i in range(120)]
    SampleStore(engine).write(rows)
    result = trend(engine, 1, T0, T0 + H, 360)
    last = 179  # the bucket of the last sample; the value is carried after it
    assert shape(result.buckets[: last + 1]) == m4(rows, at(0 * S), at(H), 360)[: last + 1]
    assert all(b.gap for b in result.buckets[:60])  # before the first sample


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"points": 0}, "points must be between 1 and 5000, got 0"),
        ({"points": 5001}, "points must be between 1 and 5000, got 5001"),
        ({"end": T0}, "start must be before end"),
        ({"end": T0 - S}, "start must be before end"),
        ({"start": datetime(2024, 3, 1)}, "start must be a timezone-aware datetime"),
        ({"staleness": -1.0}, "staleness must not be negative"),
    ],
)
def test_trend_rejects_bad_parameters(engine: sa.Engine, kwargs, message) -> None:
    args = {"start": T0, "end": T0 + H, "points": 100, **kwargs}
    with pytest.raises(ValueError, match=message):
        trend(engine, 1, **args)


def test_series_rejects_bad_parameters(engine: sa.Engine) -> None:
    with pytest.raises(ValueError, match="limit must be at least 1, got 0"):
        series(engine, 1, T0, T0 + H, limit=0)
    SampleStore(engine).write([good(1, i * S, 1.0) for i in range(20)])
    assert len(series(engine, 1, T0, T0 + H, limit=10**9).points) == 20  # capped, not refused


# --- summary ---------------------------------------------------------------------------------


def test_summary_of_a_step_signal(engine: sa.Engine) -> None:
    SampleStore(engine).write(
        [
            good(1, 0 * MIN, 10.0),
            good(1, 15 * MIN, 20.0),
            bad(1, 45 * MIN),  # the 20 holds for 30 minutes, then 5 minutes count for nothing
            good(1, 50 * MIN, 40.0),
        ]
    )
    result = summary(engine, 1, T0, T0 + H)
    assert result.time_weighted_avg == pytest.approx((10 * 15 + 20 * 30 + 40 * 10) / 55)
    assert (result.min, result.min_ts, result.max, result.max_ts) == (
        10.0, T0, 40.0, T0 + 50 * MIN,
    )  # fmt: skip
    assert result.avg == pytest.approx(70 / 3)
    assert (result.count, result.value_count, result.good_count) == (4, 3, 3)
    assert result.percent_good == 75.0
    assert (result.first_ts, result.last_ts) == (T0, T0 + 50 * MIN)
    # From 5 minutes in, the 10 stored before the range holds for the first 10 minutes.
    later = summary(engine, 1, T0 + 5 * MIN, T0 + H)
    assert later.time_weighted_avg == pytest.approx((10 * 10 + 20 * 30 + 40 * 10) / 50)
    assert later.count == 3


def test_summary_mixes_rollups_and_raw_edges_exactly(engine: sa.Engine) -> None:
    rows = noisy(1, 1900, 10 * S)
    rows[500] = good(1, 500 * 10 * S, -80.0)  # a minimum and a maximum that occur twice
    rows[1500] = good(1, 1500 * 10 * S, -80.0)
    rows[700] = good(1, 700 * 10 * S, 80.0)
    rows[900] = good(1, 900 * 10 * S, 80.0)
    SampleStore(engine).write(rows)
    start, end = T0 + 1234567 * timedelta(microseconds=1), T0 + 5 * H - 7777 * S / 1000
    result = summary(engine, 1, start, end)  # 5 h: hours, minutes and raw edges

    inside = [r for r in rows if to_micros(start) <= r.ts < to_micros(end)]
    values = [(r.value, r.ts) for r in inside if r.value is not None]
    assert (result.count, result.value_count) == (len(inside), len(values))
    assert result.good_count == sum(r.quality == GOOD for r in inside)
    assert result.percent_good == pytest.approx(100 * result.good_count / result.count)
    assert (result.min, result.min_ts) == (-80.0, from_micros(rows[500].ts))
    assert (result.max, result.max_ts) == (80.0, from_micros(rows[700].ts))
    assert result.avg == pytest.approx(sum(v for v, _ in values) / len(values))
    assert (result.first_ts, result.last_ts) == (
        from_micros(values[0][1]),
        from_micros(values[-1][1]),
    )
    # Time-weighted (raw, under 2 days): each good value holds until the next sample.
    before = [r for r in rows if r.ts <= to_micros(start)][-1:]
    held = before + inside
    weighted = duration = 0.0
    for row, following in zip(held, [*held[1:], None], strict=True):
        if row.quality == GOOD and row.value is not None:
            until = following.ts if following else to_micros(end)
            dt = until - max(row.ts, to_micros(start))
            weighted, duration = weighted + row.value * dt, duration + dt
    assert result.time_weighted_avg == pytest.approx(weighted / duration)


def test_summary_time_weighted_average_from_minute_rollups(engine: sa.Engine) -> None:
    # One day at 1, two days at 4, stored on change and every 5 minutes (the heartbeat).
    rows = [good(1, i * 5 * MIN, 1.0 if i < 288 else 4.0) for i in range(3 * 288)]
    SampleStore(engine).write(rows)
    long = summary(engine, 1, T0, T0 + timedelta(days=3))  # over 2 days: from rollups_1m
    assert long.time_weighted_avg == pytest.approx((1 * 1 + 4 * 2) / 3)
    assert long.count == 3 * 288
    short = summary(engine, 1, T0 + timedelta(hours=12), T0 + timedelta(hours=36))  # raw
    assert short.time_weighted_avg == pytest.approx(2.5)


def test_summary_of_nothing(engine: sa.Engine) -> None:
    result = summary(engine, 1, T0, T0 + timedelta(days=10))
    assert (result.count, result.percent_good, result.min, result.avg) == (0, None, None, None)
    assert result.time_weighted_avg is None


# --- latest ----------------------------------------------------------------------------------


def test_latest_sample_of_each_tag_in_one_query(engine: sa.Engine) -> None:
    add_text_tag(engine, 3)
    SampleStore(engine).write(
        [
            good(1, 0 * S, 1.0),
            good(1, 5 * S, 1.5),
            good(2, 9 * S, 2.0),
            bad(2, 10 * S),
            StoredRow(3, at(2 * S), None, "AUTO", GOOD, 0),
            good(4, 0 * S, 4.0),
        ]
    )
    statements = []

    def count(*_args) -> None:
        statements.append(1)

    sa.event.listen(engine, "before_cursor_execute", count)
    found = latest(engine, [1, 2, 3, 5])
    sa.event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert found == {
        1: SeriesPoint(T0 + 5 * S, 1.5, Quality.GOOD, QualityReason.NONE),
        2: SeriesPoint(T0 + 10 * S, None, Quality.BAD, QualityReason.TIMEOUT),
        3: SeriesPoint(T0 + 2 * S, "AUTO", Quality.GOOD, QualityReason.NONE),
    }
    assert latest(engine, []) == {}


def test_latest_of_more_tags_than_a_statement_has_parameters(engine: sa.Engine) -> None:
    # PostgreSQL binds at most 65,535 parameters: the ids travel as one.
    count = 70_000
    ids = np.arange(1, count + 1, dtype=np.int64)
    SampleStore(engine).insert(
        SampleColumns(
            ids,
            np.full(count, at(0 * S), dtype=np.int64) + ids,
            ids.astype(np.float64),
            np.zeros(count, dtype=np.uint8),
            np.zeros(count, dtype=np.uint8),
        )
    )
    found = latest(engine, [*ids.tolist(), count + 1])
    assert len(found) == count
    assert found[count] == SeriesPoint(
        T0 + timedelta(microseconds=count), float(count), Quality.GOOD, QualityReason.NONE
    )
