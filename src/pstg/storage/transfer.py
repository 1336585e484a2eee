"""Samples out of the database and back in, as CSV or JSON Lines with the same five columns.

    tag,ts,value,quality,reason

`ts` is RFC 3339 UTC with microseconds (2026-05-28T12:00:00.250000Z); `value` is a number
written with `repr` (so every float reads back bit for bit), text for string tags, or empty
(CSV) / null (JSON) for a sample without a value; `quality` and `reason` are the spellings of
`pstg.model.Quality` and `QualityReason`.

Export streams: one server-side cursor per tag, ordered by tag name then time, so memory stays
constant however much is exported. Import checks every line before anything is written
(`read_import`), then writes through `SampleStore` in batches (`import_rows`); the store skips
rows already stored, so importing a file twice stores nothing the second time.

Errors: `TransferError` (an export or import that cannot start: unknown station, unknown or
ambiguous tag, bad time bound) with subclasses below; problems of single lines of an import
file are not exceptions but `ImportProblem`s, collected so the user sees all of them at once.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.model import DataType, Quality, QualityReason
from pstg.storage.formats import Format as Format  # re-exported: callers import it from here
from pstg.storage.rows import (
    MICROSECONDS,
    QUALITY_CODES,
    QUALITY_OF_CODE,
    REASON_CODES,
    REASON_OF_CODE,
    StoredRow,
    from_micros,
    to_micros,
)
from pstg.storage.schema import samples, stations, tags, text_samples
from pstg.storage.store import SampleStore

COLUMNS = ("tag", "ts", "value", "quality", "reason")
YIELD_PER = 5000
"""Rows fetched per round trip of an export cursor."""
MAX_TS = 2**63 - 1
MIN_TS = -(2**63)


# --- errors ----------------------------------------------------------------------------------


class TransferError(Exception):
    """An export or import that cannot start; the message says why, in one line."""


class UnknownStation(TransferError):
    """--station names a station the database does not have."""


class UnknownTag(TransferError):
    """A tag name the database (or the chosen station) does not have."""


class AmbiguousTag(TransferError):
    """A tag name several stations use, with no --station to choose between them."""


class BadTime(TransferError, ValueError):
    """A time that is not RFC 3339 with an offset (or now-N[smhd]), or an empty range."""


class InvalidImport(TransferError):
    """An import file with invalid lines (and no --skip-invalid), or one that could not be read
    to the end; nothing was stored. `check` holds the problems."""

    def __init__(self, message: str, check: ImportCheck) -> None:
        super().__init__(message)
        self.check = check


# --- times -----------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))?",
    re.ASCII,
)
_RELATIVE = re.compile(r"now(?:-(\d+)([smhd]))?", re.ASCII)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()
_NAIVE_EPOCH = datetime(1970, 1, 1)


def parse_timestamp(text: str) -> int:
    """An RFC 3339 time with an offset as microseconds since the epoch (UTC); BadTime if not."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise BadTime(f"time {text!r} is not RFC 3339 (e.g. 2026-05-28T12:00:00Z)")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    if zulu is None and sign is None:
        raise BadTime(f"time {text!r} has no UTC offset: add Z or +HH:MM")
    micros = 0
    if fraction is not None:
        if fraction[6:].strip("0"):
            raise BadTime(f"time {text!r} is finer than a microsecond")
        micros = int(fraction[:6].ljust(6, "0"))
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        raise BadTime(f"time {text!r} is not a valid date and time") from None
    offset = 0
    if sign is not None:
        if int(off_h) > 23 or int(off_m) > 59:
            raise BadTime(f"time {text!r} has an invalid UTC offset")
        offset = (int(off_h) * 3600 + int(off_m) * 60) * (-1 if sign == "-" else 1)
    seconds = (moment.toordinal() - _EPOCH_ORDINAL) * 86400 + (
        moment.hour * 3600 + moment.minute * 60 + moment.second
    )
    return (seconds - offset) * MICROSECONDS + micros


def format_timestamp(micros: int) -> str:
    """Microseconds since the epoch as RFC 3339 UTC with microseconds and Z."""
    return (_NAIVE_EPOCH + timedelta(microseconds=micros)).isoformat(timespec="microseconds") + "Z"


def parse_time_bound(text: str, now: datetime) -> datetime:
    """An export bound: RFC 3339 with an offset, or `now`, `now-30s`, `now-15m`, `now-1h`,
    `now-7d` relative to `now`."""
    relative = _RELATIVE.fullmatch(text.strip())
    if relative is not None:
        amount, unit = relative.groups()
        if amount is None:
            return now
        return now - timedelta(seconds=int(amount) * _UNIT_SECONDS[unit])
    try:
        return from_micros(parse_timestamp(text.strip()))
    except BadTime as exc:
        raise BadTime(f"{exc}; relative times look like now-1h (s, m, h or d)") from None


def _bounds(start: datetime | None, end: datetime | None) -> tuple[int, int]:
    low = MIN_TS if start is None else to_micros(start)
    high = MAX_TS if end is None else to_micros(end)
    if start is not None and end is not None and low >= high:
        raise BadTime(
            f"the start {format_timestamp(low)} is not before the end {format_timestamp(high)}"
        )
    return low, high


# --- tags ------------------------------------------------------------------------------------

_CREATED_BY = "tags are created by `pstg run` from station.yaml"


class TagInfo(NamedTuple):
    id: int
    name: str
    station: str
    is_text: bool
    """A string tag: its values are text (in text_samples)."""


class TagDirectory:
    """The tags of one station, or of every station, by name (retired tags included)."""

    def __init__(self, found: Iterable[TagInfo], station: str | None = None) -> None:
        self.station = station
        self._by_name: dict[str, list[TagInfo]] = {}
        for info in found:
            self._by_name.setdefault(info.name, []).append(info)

    @classmethod
    def load(cls, engine: Engine, station: str | None = None) -> TagDirectory:
        """Read the tags table; UnknownStation if `station` is given and not in the database."""
        query = sa.select(tags.c.id, tags.c.name, stations.c.key, tags.c.data_type).join(
            stations, stations.c.id == tags.c.station_id
        )
        with engine.connect() as connection:
            if station is not None:
                known = list(connection.execute(sa.select(stations.c.key)).scalars())
                if station not in known:
                    listed = ", ".join(sorted(known)) or "none yet"
                    raise UnknownStation(f"unknown station {station!r} (stations: {listed})")
                query = query.where(stations.c.key == station)
            found = [
                TagInfo(int(tag_id), name, key, data_type == DataType.STRING.value)
                for tag_id, name, key, data_type in connection.execute(query)
            ]
        return cls(found, station)

    def get(self, name: str) -> TagInfo:
        """The tag called `name`; UnknownTag or AmbiguousTag (the message names the stations)."""
        found = self._by_name.get(name)
        if found is None:
            where = f" in station {self.station!r}" if self.station is not None else ""
            raise UnknownTag(f"unknown tag {name!r}{where} ({_CREATED_BY})")
        if len(found) > 1:
            names = ", ".join(sorted(info.station for info in found))
            raise AmbiguousTag(
                f"tag {name!r} exists in stations {names}: choose one with --station"
            )
        return found[0]

    def select(self, names: Sequence[str] | None) -> list[TagInfo]:
        """The named tags, or all of them when `names` is None, sorted by name."""
        chosen = sorted(set(self._by_name) if names is None else set(names))
        return [self.get(name) for name in chosen]


# --- export ----------------------------------------------------------------------------------


class ExportRow(NamedTuple):
    tag: str
    ts: int
    """Microseconds since the epoch, UTC."""
    value: float | str | None
    quality: Quality
    reason: QualityReason


def export_rows(
    engine: Engine,
    *,
    tags: Sequence[str] | None,
    start: datetime | None,
    end: datetime | None,
    station: str | None,
) -> Iterator[ExportRow]:
    """Every sample of `tags` (None: all) with start <= ts < end, by tag name then time.

    The tags and the range are checked now (TransferError); the rows stream as they are
    iterated, through one server-side cursor per tag, in constant memory.
    """
    selected = TagDirectory.load(engine, station).select(tags)
    low, high = _bounds(start, end)
    return _stream(engine, selected, low, high)


def count_rows(
    engine: Engine,
    *,
    tags: Sequence[str] | None,
    start: datetime | None,
    end: datetime | None,
    station: str | None,
) -> int:
    """How many rows `export_rows` with the same arguments yields (for a progress total)."""
    selected = TagDirectory.load(engine, station).select(tags)
    low, high = _bounds(start, end)
    if not selected:
        return 0
    ids = [info.id for info in selected]
    total = 0
    with engine.connect() as connection:
        for table in (samples, text_samples):
            query = sa.select(sa.func.count()).where(
                table.c.tag_id.in_(ids), table.c.ts >= low, table.c.ts < high
            )
            total += int(connection.execute(query).scalar_one())
    return total


def _range_query(table: sa.Table, *, text: bool) -> sa.Select[Any]:
    number = sa.cast(sa.null(), sa.Float(precision=53)) if text else table.c.value
    words = table.c.value if text else sa.cast(sa.null(), sa.Text)
    return sa.select(
        table.c.ts, number.label("value"), words.label("text"), table.c.quality, table.c.reason
    ).where(
        table.c.tag_id == sa.bindparam("tag"),
        table.c.ts >= sa.bindparam("low"),
        table.c.ts < sa.bindparam("high"),
    )


_NUMBERS_QUERY = _range_query(samples, text=False).order_by(samples.c.ts)
# A string tag's bad samples (no value) live in `samples`, its text in `text_samples`.
_TEXT_QUERY = sa.union_all(
    _range_query(samples, text=False), _range_query(text_samples, text=True)
).order_by(sa.literal_column("ts"))


def _stream(engine: Engine, selected: list[TagInfo], low: int, high: int) -> Iterator[ExportRow]:
    quality_of, reason_of = QUALITY_OF_CODE, REASON_OF_CODE
    with engine.connect() as connection:
        streaming = connection.execution_options(stream_results=True, yield_per=YIELD_PER)
        for info in selected:
            query = _TEXT_QUERY if info.is_text else _NUMBERS_QUERY
            result = streaming.execute(query, {"tag": info.id, "low": low, "high": high})
            name = info.name
            for ts, value, text, quality, reason in result:
                yield ExportRow(
                    name,
                    ts,
                    text if text is not None else value,
                    quality_of[quality],
                    reason_of[reason],
                )


class _TimeText:
    """format_timestamp for a stream of times: the date and time of day are formatted once per
    second (samples that share a second reuse it), only the microseconds each time."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second: int | None = None
        self._prefix = ""

    def __call__(self, micros: int) -> str:
        second, fraction = divmod(micros, MICROSECONDS)
        if second != self._second:
            self._second = second
            self._prefix = (_NAIVE_EPOCH + timedelta(seconds=second)).isoformat() + "."
        return f"{self._prefix}{fraction:06d}Z"


def write_csv(rows: Iterable[ExportRow], out: TextIO) -> int:
    """Write `rows` as CSV with a header; returns how many rows were written."""
    writer = csv.writer(out, lineterminator="\n")
    writerow, time_text = writer.writerow, _TimeText()
    writerow(COLUMNS)
    count = 0
    for tag, ts, value, quality, reason in rows:
        # repr() of a float reads back as the same double; None (no value) is an empty field.
        text = "" if value is None else value if isinstance(value, str) else repr(value)
        writerow((tag, time_text(ts), text, quality.value, reason.value))
        count += 1
    return count


def write_jsonl(rows: Iterable[ExportRow], out: TextIO) -> int:
    """Write `rows` as JSON Lines, one object per sample; returns how many were written."""
    # Each line is assembled from pieces (the tag's part once per tag): several times faster
    # than encoding a dict per row, and the same text json.dumps would give.
    dumps, time_text = json.dumps, _TimeText()
    write = out.write
    last_tag, head = None, ""
    count = 0
    for tag, ts, value, quality, reason in rows:
        if tag != last_tag:
            last_tag, head = tag, '{"tag":' + dumps(tag, ensure_ascii=False) + ',"ts":"'
        if value is None:
            text = "null"
        elif isinstance(value, str):
            text = dumps(value, ensure_ascii=False)
        else:
            text = repr(value)
        write(
            f'{head}{time_text(ts)}","value":{text},"quality":"{quality.value}",'
            f'"reason":"{reason.value}"}}\n'
        )
        count += 1
    return count


WRITERS: dict[Format, Callable[[Iterable[ExportRow], TextIO], int]] = {
    Format.CSV: write_csv,
    Format.JSONL: write_jsonl,
}


# --- import: reading and checking ------------------------------------------------------------


class ImportProblem(NamedTuple):
    line: int
    message: str


@dataclass
class ImportCheck:
    """What reading an import file found: the rows ready to store and every problem."""

    rows: list[StoredRow] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    stopped: bool = False
    """Reading stopped at the last problem (no header, broken CSV, not UTF-8): the lines after
    it were not checked, so nothing should be imported even with --skip-invalid."""

    @property
    def ok(self) -> bool:
        return not self.problems


class _Invalid(ValueError):
    """One line's problem; becomes an ImportProblem."""


# Decimal notation only (float() would also take "1_000", " 1", "nan"); no nested repetition,
# so a long hostile field cannot make the match slow.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_QUALITIES = {quality.value: code for quality, code in QUALITY_CODES.items()}
_REASONS = {reason.value: code for reason, code in REASON_CODES.items()}
_BAD = QUALITY_CODES[Quality.BAD]
_GOOD = QUALITY_CODES[Quality.GOOD]
_REASON_LIST = ", ".join(reason.value for reason in QualityReason if reason.value)
_HEADER = ",".join(COLUMNS)
_NOT_FINITE = "NaN and infinity cannot be stored"


def _number(text: str) -> float:
    if _NUMBER.fullmatch(text):
        number = float(text)
        if math.isfinite(number):
            return number
    elif text.strip().lstrip("+-").lower() not in ("nan", "inf", "infinity"):
        raise _Invalid(f"value {text!r} is not a number")
    raise _Invalid(f"value {text!r} is not a finite number: {_NOT_FINITE}")


class _RowChecker:
    """Turns the five fields of a line into a StoredRow, or raises _Invalid saying why."""

    def __init__(self, directory: TagDirectory) -> None:
        self.directory = directory
        self._tags: dict[str, TagInfo] = {}

    def tag(self, name: str) -> TagInfo:
        info = self._tags.get(name)
        if info is None:
            try:
                info = self._tags[name] = self.directory.get(name)
            except TransferError as exc:
                raise _Invalid(str(exc)) from None
        return info

    def row(
        self, info: TagInfo, ts: str, value: float | str | None, quality: str, reason: str
    ) -> StoredRow:
        try:
            micros = parse_timestamp(ts)
        except BadTime as exc:
            raise _Invalid(str(exc)) from None
        quality_code = _QUALITIES.get(quality)
        if quality_code is None:
            raise _Invalid(f"unknown quality {quality!r} (good, uncertain or bad)")
        reason_code = _REASONS.get(reason)
        if reason_code is None:
            raise _Invalid(f"unknown reason {reason!r} (empty, or one of {_REASON_LIST})")
        if value is None:
            if quality_code == _GOOD:
                raise _Invalid("empty value with quality good (a good sample has a value)")
        elif quality_code == _BAD:
            raise _Invalid(f"value {value!r} present with quality bad (a bad sample has none)")
        number = value if isinstance(value, float) else None
        text = value if isinstance(value, str) else None
        return StoredRow(info.id, micros, number, text, quality_code, reason_code)

    def csv_row(self, fields: list[str]) -> StoredRow:
        if len(fields) != len(COLUMNS):
            raise _Invalid(f"expected {len(COLUMNS)} columns ({_HEADER}), got {len(fields)}")
        name, ts, text, quality, reason = fields
        info = self.tag(name)
        value: float | str | None
        if info.is_text:
            # CSV cannot tell empty text from no value: empty is no value only when bad.
            value = None if text == "" and quality == Quality.BAD.value else text
        else:
            value = _number(text) if text != "" else None
        return self.row(info, ts, value, quality, reason)

    def json_row(self, line: str) -> StoredRow:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _Invalid(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
        if not isinstance(record, dict):
            raise _Invalid(f"expected a JSON object with keys {', '.join(COLUMNS)}")
        if len(record) != len(COLUMNS) or record.keys() != set(COLUMNS):
            missing = [key for key in COLUMNS if key not in record]
            extra = sorted(key for key in record if key not in COLUMNS)
            said = [f"missing key(s) {', '.join(missing)}"] if missing else []
            said += [f"unknown key(s) {', '.join(extra)}"] if extra else []
            raise _Invalid("; ".join(said))
        for key in ("tag", "ts", "quality", "reason"):
            if not isinstance(record[key], str):
                raise _Invalid(f"{key} must be a string, got {json.dumps(record[key])}")
        info = self.tag(record["tag"])
        value = record["value"]
        if value is not None:
            if info.is_text:
                if not isinstance(value, str):
                    raise _Invalid(f"value {json.dumps(value)} is not text (a string tag)")
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise _Invalid(f"value {json.dumps(value)} is not a number")
            else:
                value = self._finite(value)
        return self.row(info, record["ts"], value, record["quality"], record["reason"])

    @staticmethod
    def _finite(value: int | float) -> float:
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise _Invalid(f"value {value!r} is not a finite number: {_NOT_FINITE}")
        return number


def read_import(source: Path | TextIO, fmt: Format, directory: TagDirectory) -> ImportCheck:
    """Read and check every line of `source` against the tags in `directory`; nothing is
    written. The rows of the valid lines and each invalid line's problem are returned."""
    if isinstance(source, Path):
        with source.open(encoding="utf-8", newline="") as stream:
            return read_import(stream, fmt, directory)
    check = ImportCheck()
    checker = _RowChecker(directory)
    if fmt is Format.CSV:
        _read_csv(source, checker, check)
    else:
        _read_jsonl(source, checker, check)
    return check


def _stop(check: ImportCheck, line: int, message: str) -> None:
    check.problems.append(ImportProblem(line, message))
    check.stopped = True


def _read_csv(stream: TextIO, checker: _RowChecker, check: ImportCheck) -> None:
    reader = csv.reader(stream, strict=True)
    rows, problems = check.rows, check.problems
    try:
        header = next(reader, None)
        if header is None:
            return
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        if [name.strip() for name in header] != list(COLUMNS):
            got = ",".join(header)[:80]
            _stop(check, 1, f"missing header: the first line must be {_HEADER}, got {got!r}")
            return
        line = reader.line_num + 1
        for fields in reader:
            if fields:  # skip blank lines
                try:
                    rows.append(checker.csv_row(fields))
                except _Invalid as exc:
                    problems.append(ImportProblem(line, str(exc)))
            line = reader.line_num + 1
    except csv.Error as exc:
        _stop(check, reader.line_num, f"malformed CSV: {exc}")
    except UnicodeDecodeError as exc:
        _stop(check, reader.line_num + 1, f"not UTF-8 text ({exc.reason})")


def _read_jsonl(stream: TextIO, checker: _RowChecker, check: ImportCheck) -> None:
    rows, problems = check.rows, check.problems
    line_number = 0
    try:
        for line_number, line in enumerate(stream, start=1):
            if not line.strip() or (line_number == 1 and line == "\ufeff"):
                continue
            try:
                rows.append(checker.json_row(line.removeprefix("\ufeff")))
            except _Invalid as exc:
                problems.append(ImportProblem(line_number, str(exc)))
    except UnicodeDecodeError as exc:
        _stop(check, line_number + 1, f"not UTF-8 text ({exc.reason})")


# --- import: writing -------------------------------------------------------------------------


class ImportResult(NamedTuple):
    read: int
    stored_new: int
    already_present: int
    """Rows whose (tag, ts) was stored before, or repeated within the file."""


def import_rows(
    engine: Engine,
    rows: Sequence[StoredRow],
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Store `rows` through SampleStore, `batch_size` per transaction; rows already stored are
    skipped. `progress` is called with the number of rows of each batch written."""
    store = SampleStore(engine)
    stored = 0
    for begin in range(0, len(rows), batch_size):
        batch = rows[begin : begin + batch_size]
        stored += store.write(batch)
        if progress is not None:
            progress(len(batch))
    return ImportResult(len(rows), stored, len(rows) - stored)


def import_checked(
    engine: Engine,
    check: ImportCheck,
    *,
    skip_invalid: bool = False,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Store the rows of a checked file: all or nothing, unless `skip_invalid`, which stores
    the valid lines. A file that could not be read to the end is never stored (InvalidImport).
    """
    if check.stopped:
        line = check.problems[-1].line
        raise InvalidImport(f"cannot read past line {line}; nothing imported", check)
    if check.problems and not skip_invalid:
        raise InvalidImport(
            f"{len(check.problems)} invalid line(s), nothing imported "
            f"(--skip-invalid imports the {len(check.rows)} valid one(s))",
            check,
        )
    return import_rows(engine, check.rows, batch_size, progress)
