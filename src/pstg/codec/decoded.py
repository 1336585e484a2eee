"""`Decoded`, the result of decoding one tag: value, quality and reason."""

from __future__ import annotations

from typing import NamedTuple

from pstg.model import Quality, QualityReason


class Decoded(NamedTuple):
    """One decoded sample value. `value` is None exactly when `quality` is bad."""

    value: float | str | None
    quality: Quality
    reason: QualityReason


# Decoders build results with tuple.__new__ directly: NamedTuple's generated __new__ is a
# Python-level call and costs about as much again as the whole decode.
_new = tuple.__new__

NO_READING = Decoded(None, Quality.BAD, QualityReason.NO_READING)
"""NaN, ±inf or a sentinel: the device says it has no value. Shared, it never changes."""


def good(value: float | str) -> Decoded:
    return _new(Decoded, (value, Quality.GOOD, QualityReason.NONE))


def out_of_range(value: float) -> Decoded:
    return _new(Decoded, (value, Quality.UNCERTAIN, QualityReason.OUT_OF_RANGE))
