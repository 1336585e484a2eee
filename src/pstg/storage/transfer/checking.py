"""A file to import, read and checked line by line before anything is written.

Every line becomes a `StoredRow` or an `ImportProblem` (its line number and what is wrong), so
the user sees all the problems of a file at once; `importing` stores the rows afterwards.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TextIO

from pstg.model import Quality, QualityReason
from pstg.storage.rows import QUALITY_CODES, REASON_CODES, StoredRow
from pstg.storage.transfer.errors import TransferError
from pstg.storage.transfer.formats import COLUMNS, Format
from pstg.storage.transfer.tags import TagDirectory, TagInfo
from pstg.times import InvalidTime, parse_micros


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
            micros = parse_micros(ts)
        except InvalidTime as exc:
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
