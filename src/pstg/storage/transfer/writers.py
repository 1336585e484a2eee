"""Export rows as text: CSV with a header, or JSON Lines, both UTF-8 and `\\n`-terminated.
Floats are written with `repr`, which Python reads back as the same double."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TextIO

from pstg.storage.transfer.export import ExportRow
from pstg.storage.transfer.formats import COLUMNS, Format
from pstg.times import MICROSECONDS

_NAIVE_EPOCH = datetime(1970, 1, 1)


class _TimeText:
    """`pstg.times.format_micros` for a stream of times: the date and time of day are formatted
    once per second (samples that share a second reuse it), only the microseconds each time."""

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
