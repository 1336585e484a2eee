"""What every query module shares: connections, argument checks, time conversion, records."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.model import DataType, Quality, QualityReason
from pstg.storage.rows import QUALITY_OF_CODE, REASON_OF_CODE, from_micros, to_micros


class SeriesPoint(NamedTuple):
    ts: datetime
    value: float | str | None
    """A number, the text of a string tag, or None (a bad sample)."""
    quality: Quality
    reason: QualityReason


@contextmanager
def connect(engine: Engine | Connection) -> Iterator[Connection]:
    if isinstance(engine, Connection):
        yield engine
        return
    with engine.connect() as connection:
        yield connection


def is_text(connection: Connection, tag_id: int) -> bool:
    data_type = connection.execute(
        sa.text("SELECT data_type FROM tags WHERE id = :tag"), {"tag": tag_id}
    ).scalar_one_or_none()
    return bool(data_type == DataType.STRING.value)


def micros(ts: datetime, name: str) -> int:
    """`ts` in microseconds; ValueError for a naive datetime."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {ts!r}")
    return to_micros(ts)


def as_datetime(value: int | None) -> datetime | None:
    return None if value is None else from_micros(int(value))


def ceil_to(value: int, width: int) -> int:
    return -(-value // width) * width


def point(ts: int, value: float | str | None, quality: int, reason: int) -> SeriesPoint:
    return SeriesPoint(from_micros(ts), value, QUALITY_OF_CODE[quality], REASON_OF_CODE[reason])
