"""Rows out of the database for an export: every sample of the chosen tags in a time range,
by tag name then time. One server-side cursor per tag streams the rows, so memory stays
constant however much is exported."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.model import Quality, QualityReason
from pstg.storage.rows import QUALITY_OF_CODE, REASON_OF_CODE
from pstg.storage.schema import samples, text_samples
from pstg.storage.transfer.tags import TagDirectory, TagInfo
from pstg.times import InvalidTime, format_micros, to_micros

YIELD_PER = 5000
"""Rows fetched per round trip of an export cursor."""
MAX_TS = 2**63 - 1
MIN_TS = -(2**63)


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

    The tags and the range are checked now (TransferError, InvalidTime); the rows stream as
    they are iterated, through one server-side cursor per tag, in constant memory.
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


def _bounds(start: datetime | None, end: datetime | None) -> tuple[int, int]:
    low = MIN_TS if start is None else to_micros(start)
    high = MAX_TS if end is None else to_micros(end)
    if start is not None and end is not None and low >= high:
        raise InvalidTime(
            f"the start {format_micros(low)} is not before the end {format_micros(high)}"
        )
    return low, high


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
