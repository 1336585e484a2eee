"""The storage form of a sample: what the writer batches, spools and inserts.

A `Sample` names its tag and carries a datetime; a `StoredRow` carries the tag's database id,
the timestamp as integer microseconds since the Unix epoch (UTC) — exact, compact and equally
fast to index and compare on SQLite and PostgreSQL — and the quality and reason as small codes.
Numbers go in `value`, text (string tags) in `text`; one of them or neither (a bad sample) is
set.
"""

from __future__ import annotations

from typing import NamedTuple

from pstg.model import (
    GOOD_CODE,
    QUALITY_CODES,
    QUALITY_OF_CODE,
    REASON_CODES,
    REASON_OF_CODE,
    Sample,
)
from pstg.times import EPOCH, MICROSECONDS, from_micros, to_micros

__all__ = [
    "EPOCH",
    "GOOD_CODE",
    "MICROSECONDS",
    "QUALITY_CODES",
    "QUALITY_OF_CODE",
    "REASON_CODES",
    "REASON_OF_CODE",
    "StoredRow",
    "from_micros",
    "to_micros",
    "to_row",
]


class StoredRow(NamedTuple):
    tag_id: int
    ts: int
    """Microseconds since 1970-01-01T00:00:00Z."""
    value: float | None
    text: str | None
    quality: int
    reason: int


def to_row(sample: Sample, tag_id: int) -> StoredRow:
    value = sample.value
    number = None if value is None or isinstance(value, str) else float(value)
    text = value if isinstance(value, str) else None
    return StoredRow(
        tag_id,
        to_micros(sample.ts),
        number,
        text,
        QUALITY_CODES[sample.quality],
        REASON_CODES[sample.reason],
    )
