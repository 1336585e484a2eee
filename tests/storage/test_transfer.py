"""Export and import on both backends: exact round trips, idempotency, streaming, validation."""

import io
import math
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from pstg.config.models import StationConfig
from pstg.model import Quality, QualityReason
from pstg.storage.catalog import sync_catalog
from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade
from pstg.storage.rows import QUALITY_CODES, REASON_CODES, StoredRow
from pstg.storage.store import SampleStore
from pstg.storage.transfer.checking import ImportCheck, ImportProblem, read_import
from pstg.storage.transfer.errors import AmbiguousTag, InvalidImport, UnknownStation, UnknownTag
from pstg.storage.transfer.export import ExportRow, count_rows, export_rows
from pstg.storage.transfer.formats import Format
from pstg.storage.transfer.importing import import_checked, import_rows
from pstg.storage.transfer.tags import TagDirectory
from pstg.storage.transfer.writers import WRITERS
from pstg.times import InvalidTime, parse_micros
from tests.support.databases import ScratchDatabase

T0 = 1_780_000_000_000_000  # 2026-05-28T20:26:40Z, microseconds
GOOD, UNCERTAIN, BAD = (QUALITY_CODES[q] for q in (Quality.GOOD, Quality.UNCERTAIN, Quality.BAD))


def station(station_id: str = "ps-01", *extra: str) -> StationConfig:
    tags = [
        {"name": "wet_well.level", "source": "holding_register", "address": 0, "type": "float64"},
        {"name": "pump1.running", "source": "coil", "address": 0},
        {
            "name": "station.name",
            "source": "holding_register",
            "address": 10,
            "type": "string",
            "length": 8,
        },
    ] + [{"name": name, "source": "input_register", "address": i} for i, name in enumerate(extra)]
    return StationConfig.model_validate(
        {"station": {"id": station_id}, "devices": [{"id": "plc1", "port": 15020, "tags": tags}]}
    )  # fmt: skip


def sample_rows(ids: dict[str, int]) -> list[StoredRow]:
    level, running, name = ids["wet_well.level"], ids["pump1.running"], ids["station.name"]
    comm, timeout = REASON_CODES[QualityReason.COMM_FAILURE], REASON_CODES[QualityReason.TIMEOUT]
    out_of_range = REASON_CODES[QualityReason.OUT_OF_RANGE]
    numbers = [0.1, -0.0, 1e-300, 1e308, 0.1 + 0.2, 123456.789012345, -5e-324]
    return [
        *(StoredRow(level, T0 + i * 250_001, v, None, GOOD, 0) for i, v in enumerate(numbers)),
        StoredRow(level, T0 + 10_000_000, None, None, BAD, comm),
        StoredRow(level, T0 + 11_000_000, 99.5, None, UNCERTAIN, out_of_range),
        StoredRow(running, T0, 0.0, None, GOOD, 0),
        StoredRow(running, T0 + 1, 1.0, None, GOOD, 0),
        StoredRow(name, T0, None, "Lift Station 1", GOOD, 0),
        StoredRow(name, T0 + 1_000_000, None, "", GOOD, 0),  # empty text is a value
        StoredRow(name, T0 + 2_000_000, None, None, BAD, timeout),  # stored in `samples`
        StoredRow(name, T0 + 3_000_000, None, 'a,b "c"\nd Pümp', GOOD, 0),
    ]


@pytest.fixture
def source(engine: sa.Engine) -> dict[str, int]:
    """The engine's database with ps-01's tags and sample_rows stored; the tag ids by name."""
    ids = sync_catalog(engine, station()).tag_ids
    SampleStore(engine).write(sample_rows(ids))
    return ids


@pytest.fixture
def target(database_url: str, tmp_path) -> Iterator[sa.Engine]:
    """A second migrated database on the same backend, its tag ids different from the first."""
    scratch = None
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'target.db'}"
    else:
        scratch = ScratchDatabase()
        url = scratch.url
    engine = create_engine(url)
    upgrade(engine)
    sync_catalog(engine, station("ps-01", "other.first"))
    yield engine
    engine.dispose()
    if scratch is not None:
        scratch.drop()


def exported(engine: sa.Engine, **selection) -> list[tuple[Any, ...]]:
    selection = {"tags": None, "start": None, "end": None, "station": None, **selection}
    # repr tells -0.0 from 0.0 and shows every bit of a float.
    return [
        (row.tag, row.ts, repr(row.value), row.quality, row.reason)
        for row in export_rows(engine, **selection)
    ]


def export_text(engine: sa.Engine, fmt: Format, **selection) -> str:
    selection = {"tags": None, "start": None, "end": None, "station": None, **selection}
    out = io.StringIO(newline="")
    WRITERS[fmt](export_rows(engine, **selection), out)
    return out.getvalue()


def check_text(engine: sa.Engine, text: str, fmt: Format, station: str | None = None):
    return read_import(io.StringIO(text, newline=""), fmt, TagDirectory.load(engine, station))


def stored_count(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return sum(
            connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()
            for table in ("samples", "text_samples")
        )


# --- export ----------------------------------------------------------------------------------


def test_export_is_ordered_by_tag_then_time_and_keeps_every_kind_of_sample(engine, source):
    rows = exported(engine)
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)
    assert rows[:2] == [
        ("pump1.running", T0, "0.0", Quality.GOOD, QualityReason.NONE),
        ("pump1.running", T0 + 1, "1.0", Quality.GOOD, QualityReason.NONE),
    ]
    names = [row for row in rows if row[0] == "station.name"]
    assert [row[2] for row in names] == ["'Lift Station 1'", "''", "None", "'a,b \"c\"\\nd Pümp'"]
    assert names[2][3:] == (Quality.BAD, QualityReason.TIMEOUT)
    assert len(rows) == len(sample_rows(source))


def test_export_selects_tags_and_a_half_open_time_range(engine, source):
    start, end = datetime.fromtimestamp(T0 / 1e6, UTC), datetime.fromtimestamp(T0 / 1e6 + 1, UTC)
    rows = exported(engine, tags=["wet_well.level"], start=start, end=end)
    assert [row[1] - T0 for row in rows] == [0, 250_001, 500_002, 750_003]  # 1_000_004 is out
    one = count_rows(engine, tags=["wet_well.level"], start=start, end=end, station="ps-01")
    assert one == 4
    assert count_rows(engine, tags=None, start=None, end=None, station=None) == len(
        exported(engine)
    )


def test_export_refuses_unknown_or_ambiguous_names_and_empty_ranges(engine, source):
    with pytest.raises(UnknownTag, match=r"unknown tag 'nope' \(.*is it in the config\?\)"):
        exported(engine, tags=["nope"])
    with pytest.raises(UnknownStation, match=r"unknown station 'ps-9' \(stations: ps-01\)"):
        exported(engine, station="ps-9")
    sync_catalog(engine, station("ps-02"))
    with pytest.raises(AmbiguousTag, match="exists in stations ps-01, ps-02: choose one"):
        exported(engine, tags=["pump1.running"])
    assert len(exported(engine, station="ps-01")) == len(sample_rows(source))
    moment = datetime(2026, 5, 28, tzinfo=UTC)
    with pytest.raises(InvalidTime, match="is not before"):
        exported(engine, start=moment, end=moment, station="ps-01")


def test_export_streams_in_bounded_memory(engine):
    ids = sync_catalog(engine, station()).tag_ids
    count = 200_000
    level = ids["wet_well.level"]
    SampleStore(engine).write(
        [StoredRow(level, T0 + i * 1000, i / 7, None, GOOD, 0) for i in range(count)]
    )

    cursors: list[str] = []
    sa.event.listen(
        engine, "before_cursor_execute", lambda *args: cursors.append(type(args[1]).__name__)
    )
    tracemalloc.start()
    try:
        rows = export_rows(engine, tags=None, start=None, end=None, station=None)
        exported = sum(1 for _ in rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert exported == count
    # The rows would take ~40 MB held at once (and 19 MB as JSON Lines); one fetch is ~1 MB.
    assert peak < 5_000_000, f"peak {peak / 1e6:.1f} MB"
    # psycopg would buffer a whole result in C memory, unseen by tracemalloc, unless the
    # cursor is a server-side one.
    if engine.dialect.name == "postgresql":
        assert cursors[-1] == "ServerCursor"


@pytest.mark.parametrize("fmt", list(Format))
def test_writers_write_as_rows_arrive(fmt):
    out = io.StringIO()

    def rows() -> Iterator[ExportRow]:
        for i in range(100):
            yield ExportRow("x", i, float(i), Quality.GOOD, QualityReason.NONE)
        assert out.getvalue().count("\n") >= 100  # nothing held back to the end

    assert WRITERS[fmt](rows(), out) == 100


# --- round trip and idempotency --------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(Format))
def test_export_imports_back_unchanged_into_another_database(engine, source, target, fmt):
    text = export_text(engine, fmt)
    check = check_text(target, text, fmt)
    assert check.problems == []
    result = import_checked(target, check)
    count = len(sample_rows(source))
    assert (result.read, result.stored_new, result.already_present) == (count, count, 0)
    assert exported(target) == exported(engine)
    assert export_text(target, fmt) == text
    level = [row[2] for row in exported(target, tags=["wet_well.level"])]
    assert level[2:7] == ["1e-300", "1e+308", "0.30000000000000004", "123456.789012345", "-5e-324"]
    if engine.dialect.name == "sqlite":
        # SQLite stores a REAL equal to an integer as that integer, so `samples` itself turns
        # -0.0 into 0.0 (before any export); PostgreSQL keeps the sign through the round trip.
        assert level[1] == "0.0"
    else:
        assert level[1] == "-0.0"
    assert rollups_by_name(target) == rollups_by_name(engine)

    again = import_rows(target, check_text(target, text, fmt).rows)
    assert (again.read, again.stored_new, again.already_present) == (count, 0, count)
    assert exported(target) == exported(engine)


def rollups_by_name(engine: sa.Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return sorted(
            tuple(row)
            for row in connection.exec_driver_sql(
                "SELECT t.name, r.bucket, r.count, r.value_count, r.good_count, r.sum, r.min, "
                "r.max FROM rollups_1m r JOIN tags t ON t.id = r.tag_id"
            )
        )


def test_import_reports_progress_per_batch(engine, source, target):
    check = check_text(target, export_text(engine, Format.CSV), Format.CSV)
    done: list[int] = []
    result = import_rows(target, check.rows, batch_size=4, progress=done.append)
    assert done == [4, 4, 4, 3]
    assert result.stored_new == 15


# --- validation ------------------------------------------------------------------------------

GOOD_LINE = "wet_well.level,2026-05-28T12:00:00.000000Z,1.5,good,"
TS = "2026-05-28T12:00:01Z"

CSV_CASES = [
    # (the line, the problem reported for it)
    (f"nope,{TS},1,good,", "unknown tag 'nope' (the database knows the tags of the station"),
    # Times follow pstg.times (tests/support/time_cases.py has the whole table).
    ("wet_well.level,2026-05-28 12:00,1,good,", "'2026-05-28 12:00' has no UTC offset"),
    ("wet_well.level,28/05/2026,1,good,", "is not an RFC 3339 time with an offset"),
    ("wet_well.level,2026-05-28T12:00:00,1,good,", "has no UTC offset; add Z (UTC) or +hh:mm"),
    ("wet_well.level,2026-02-30T12:00:00Z,1,good,", "is not a valid time: day is out of range"),
    ("wet_well.level,2026-05-28T12:00:00.0000001Z,1,good,", "finer than a microsecond"),
    (f"wet_well.level,{TS},abc,good,", "value 'abc' is not a number"),
    (f"wet_well.level,{TS},1_000,good,", "value '1_000' is not a number"),
    (f"wet_well.level,{TS},nan,good,", "not a finite number: NaN and infinity cannot be stored"),
    (f"wet_well.level,{TS},-inf,good,", "not a finite number"),
    (f"wet_well.level,{TS},1e999,good,", "not a finite number"),
    (f"wet_well.level,{TS},1.5,bad,timeout", "present with quality bad"),
    (f"station.name,{TS},text,bad,timeout", "present with quality bad"),
    (f"wet_well.level,{TS},,good,", "empty value with quality good"),
    (f"wet_well.level,{TS},1.5,ok,", "unknown quality 'ok' (good, uncertain or bad)"),
    (f"wet_well.level,{TS},1.5,good,broken", "unknown reason 'broken' (empty, or one of"),
    (f"wet_well.level,{TS},1.5,good", "expected 5 columns (tag,ts,value,quality,reason), got 4"),
    (f"wet_well.level,{TS},1.5,good,,", "expected 5 columns"),
]

JSONL_CASES = [
    ('{"tag": "wet_well.level", "ts": ', "not valid JSON: Expecting value"),
    ('["wet_well.level"]', "expected a JSON object with keys tag, ts, value, quality, reason"),
    ('{"tag": "wet_well.level", "ts": "2026-05-28T12:00:01Z", "value": 1, "quality": "good"}',
     "missing key(s) reason"),
    ('{"tag": "wet_well.level", "ts": "2026-05-28T12:00:01Z", "value": 1, "quality": "good", '
     '"reason": "", "unit": "m"}', "unknown key(s) unit"),
    ('{"tag": "wet_well.level", "ts": 1780000000, "value": 1, "quality": "good", "reason": ""}',
     "ts must be a string, got 1780000000"),
    ('{"tag": "wet_well.level", "ts": "2026-05-28T12:00:01Z", "value": "1.5", "quality": "good",'
     ' "reason": ""}', "value \"1.5\" is not a number"),
    ('{"tag": "wet_well.level", "ts": "2026-05-28T12:00:01Z", "value": true, "quality": "good",'
     ' "reason": ""}', "value true is not a number"),
    ('{"tag": "wet_well.level", "ts": "2026-05-28T12:00:01Z", "value": NaN, "quality": "good",'
     ' "reason": ""}', "not a finite number"),
    ('{"tag": "station.name", "ts": "2026-05-28T12:00:01Z", "value": 12, "quality": "good",'
     ' "reason": ""}', "value 12 is not text (a string tag)"),
    ('{"tag": "station.name", "ts": "2026-05-28T12:00:01Z", "value": null, "quality": "good",'
     ' "reason": ""}', "empty value with quality good"),
    ('{"tag": "x", "ts": "2026-05-28T12:00:01+02:00", "value": 1, "quality": "good", "reason": ""}',
     "unknown tag 'x'"),
]  # fmt: skip


@pytest.fixture(scope="module")
def cases_engine(tmp_path_factory) -> Iterator[sa.Engine]:
    """One SQLite database with ps-01's tags for the tables of cases (checking a file reads
    only the tags table, the same on both backends)."""
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('cases') / 'pstg.db'}")
    upgrade(engine)
    sync_catalog(engine, station())
    yield engine
    engine.dispose()


@pytest.mark.parametrize(("line", "problem"), CSV_CASES)
def test_each_invalid_csv_line_is_reported_with_its_number(cases_engine, line, problem):
    text = f"tag,ts,value,quality,reason\n{GOOD_LINE}\n{line}\n{GOOD_LINE}\n"
    check = check_text(cases_engine, text, Format.CSV)
    assert [problem.line for problem in check.problems] == [3]
    assert problem in check.problems[0].message
    assert len(check.rows) == 2
    assert_nothing_imported(cases_engine, check)


@pytest.mark.parametrize(("line", "problem"), JSONL_CASES)
def test_each_invalid_json_line_is_reported_with_its_number(cases_engine, line, problem):
    good = (
        '{"tag":"wet_well.level","ts":"2026-05-28T12:00:00Z","value":1.5,"quality":"good",'
        '"reason":""}'
    )
    check = check_text(cases_engine, f"{good}\n\n{line}\n{good}\n", Format.JSONL)
    assert [problem.line for problem in check.problems] == [3]
    assert problem in check.problems[0].message
    assert len(check.rows) == 2
    assert_nothing_imported(cases_engine, check)


def test_an_invalid_file_stores_nothing(engine, source):
    text = f"tag,ts,value,quality,reason\n{GOOD_LINE}\n{GOOD_LINE.replace('good', 'fine')}\n"
    check = check_text(engine, text, Format.CSV)
    assert check.problems == [ImportProblem(3, "unknown quality 'fine' (good, uncertain or bad)")]
    assert_nothing_imported(engine, check)


def assert_nothing_imported(engine: sa.Engine, check: ImportCheck) -> None:
    before = stored_count(engine)
    with pytest.raises(InvalidImport, match="1 invalid line"):
        import_checked(engine, check)
    assert stored_count(engine) == before


def test_skip_invalid_imports_the_valid_lines_only(engine, source):
    text = (
        "tag,ts,value,quality,reason\n"
        "wet_well.level,2030-01-01T00:00:00Z,1.0,good,\n"
        "wet_well.level,2030-01-01T00:00:01,2.0,good,\n"  # no offset
        "wet_well.level,2030-01-01T02:00:02+02:00,3.0,uncertain,out_of_range\n"
        "nope,2030-01-01T00:00:03Z,4.0,good,\n"
    )
    check = check_text(engine, text, Format.CSV)
    assert [problem.line for problem in check.problems] == [3, 5]
    before = stored_count(engine)
    result = import_checked(engine, check, skip_invalid=True)
    assert (result.read, result.stored_new) == (2, 2)
    assert stored_count(engine) == before + 2
    start = datetime(2030, 1, 1, tzinfo=UTC)
    rows = exported(engine, start=start)
    assert [(row[1], row[2]) for row in rows] == [
        (parse_micros("2030-01-01T00:00:00Z"), "1.0"),
        (parse_micros("2030-01-01T00:00:02Z"), "3.0"),  # +02:00 converted to UTC
    ]


@pytest.mark.parametrize("fmt", list(Format))
def test_import_reads_numbers_exactly(cases_engine, fmt):
    values = [-0.0, 1e-300, 0.30000000000000004, -5e-324, 1.7976931348623157e308]
    rows = [
        ExportRow("wet_well.level", T0 + i, value, Quality.GOOD, QualityReason.NONE)
        for i, value in enumerate(values)
    ]
    out = io.StringIO(newline="")
    WRITERS[fmt](rows, out)
    check = check_text(cases_engine, out.getvalue(), fmt)
    assert [repr(row.value) for row in check.rows] == [repr(value) for value in values]


def test_a_file_that_cannot_be_read_to_the_end_is_never_imported(engine, source):
    no_header = check_text(engine, f"{GOOD_LINE}\n{GOOD_LINE}\n", Format.CSV)
    assert no_header.stopped
    assert no_header.problems[0].line == 1
    assert "missing header: the first line must be tag,ts,value,quality,reason" in (
        no_header.problems[0].message
    )
    with pytest.raises(InvalidImport, match="cannot read past line 1"):
        import_checked(engine, no_header, skip_invalid=True)

    binary = io.TextIOWrapper(io.BytesIO(b"tag,ts,value,quality,reason\n\xff\xfe\n"), "utf-8")
    check = read_import(binary, Format.CSV, TagDirectory.load(engine))
    assert check.stopped
    assert check.problems[0].message.startswith("not UTF-8 text")

    quoted = check_text(engine, f'tag,ts,value,quality,reason\n{GOOD_LINE}\n"unclosed,', Format.CSV)
    assert quoted.stopped
    assert quoted.problems[0].message.startswith("malformed CSV")


def test_a_name_shared_by_two_stations_needs_station(engine, source):
    sync_catalog(engine, station("ps-02"))
    text = f"tag,ts,value,quality,reason\n{GOOD_LINE}\n"
    check = check_text(engine, text, Format.CSV)
    assert check.problems[0].line == 2
    assert "tag 'wet_well.level' exists in stations ps-01, ps-02: choose one with --station" in (
        check.problems[0].message
    )
    check = check_text(engine, text, Format.CSV, station="ps-02")
    assert check.problems == []
    assert check.rows[0].tag_id != source["wet_well.level"]


def test_floats_survive_the_text_formats_bit_for_bit():
    # Each format writes repr(), which Python reads back to the same double.
    for value in (0.1, -0.0, 1e-300, 5e-324, 1.7976931348623157e308, 2.0**53 + 1):
        row = ExportRow("x", 0, value, Quality.GOOD, QualityReason.NONE)
        for fmt in Format:
            out = io.StringIO()
            WRITERS[fmt]([row], out)
            assert repr(value) in out.getvalue()
        assert math.copysign(1, float(repr(value))) == math.copysign(1, value)
