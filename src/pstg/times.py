"""Instants as integer microseconds since the Unix epoch (UTC), the form batches and the
database use: exact, compact, and as fast to compare and index as any number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECONDS = 1_000_000


def to_micros(ts: datetime) -> int:
    """A timezone-aware datetime as integer microseconds since the epoch (exact)."""
    delta = ts - EPOCH
    return (delta.days * 86_400 + delta.seconds) * MICROSECONDS + delta.microseconds


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)
