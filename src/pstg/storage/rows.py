"""The storage form of a sample: what the writer batches, spools and inserts.

A `Sample` names its tag and carries a datetime; a `StoredRow` carries the tag's database id,
the timestamp as integer microseconds since the Unix epoch (UTC) — exact, compact and equally
fast to index and compare on SQLite and PostgreSQL — and the quality and reason as small codes.
Numbers go in `value`, text (string tags) in `text`; one of them or neither (a bad sample) is
set.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from pstg.model import Quality, QualityReason, Sample

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECONDS = 1_000_000

QUALITY_CODES: dict[Quality, int] = {Quality.GOOD: 0, Quality.UNCERTAIN: 1, Quality.BAD: 2}
QUALITY_OF_CODE: dict[int, Quality] = {code: q for q, code in QUALITY_CODES.items()}
GOOD_CODE = QUALITY_CODES[Quality.GOOD]

# Stored codes: never renumber; a new reason gets the next free number.
REASON_CODES: dict[QualityReason, int] = {
    QualityReason.NONE: 0,
    QualityReason.COMM_FAILURE: 1,
    QualityReason.TIMEOUT: 2,
    QualityReason.DEVICE_FAILURE: 3,
    QualityReason.MALFORMED_RESPONSE: 4,
    QualityReason.CONFIG_ERROR: 5,
    QualityReason.OUT_OF_RANGE: 6,
    QualityReason.NO_READING: 7,
    QualityReason.STALE: 8,
}
REASON_OF_CODE: dict[int, QualityReason] = {n: reason for reason, n in REASON_CODES.items()}


class StoredRow(NamedTuple):
    tag_id: int
    ts: int
    """Microseconds since 1970-01-01T00:00:00Z."""
    value: float | None
    text: str | None
    quality: int
    reason: int


def to_micros(ts: datetime) -> int:
    """A timezone-aware datetime as integer microseconds since the epoch (exact)."""
    delta = ts - EPOCH
    return (delta.days * 86_400 + delta.seconds) * MICROSECONDS + delta.microseconds


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


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
