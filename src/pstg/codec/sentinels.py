"""Sentinels: raw values a device sends to mean "no reading" (0x8000, 32767, -9999 ...).

Config lists them as plain integers, written signed or unsigned as the device manual does:
-32768, 32768 and 0x8000 all mean the register 0x8000. They are normalized once, at start-up,
into exactly what the decoder produces, so the poll loop tests them with one set lookup.
"""

from __future__ import annotations

from collections.abc import Iterable

from pstg.codec.errors import CodecError
from pstg.codec.formats import NumericFormat


def fit_pattern(sentinel: int, bits: int) -> int | None:
    """`sentinel` as an unsigned `bits`-wide pattern, or None if it is wider than that."""
    if not -(1 << (bits - 1)) <= sentinel < (1 << bits):
        return None
    return sentinel & ((1 << bits) - 1)


def register_sentinels(sentinels: Iterable[int], what: str) -> frozenset[int]:
    """Sentinels of a one-register tag compared with the unsigned register (bool tags)."""
    return frozenset(_require_pattern(value, 16, what) for value in sentinels)


def integer_sentinels(sentinels: Iterable[int], fmt: NumericFormat) -> frozenset[int]:
    """Sentinels of an integer tag, in the signedness its decoder returns."""
    half = 1 << (fmt.bits - 1)
    normalized = set()
    for value in sentinels:
        pattern = _require_pattern(value, fmt.bits, fmt.data_type.value)
        normalized.add(pattern - 2 * half if fmt.signed and pattern >= half else pattern)
    return frozenset(normalized)


def float_sentinels(
    sentinels: Iterable[int], fmt: NumericFormat
) -> tuple[frozenset[int], frozenset[float]]:
    """Sentinels of a float tag: (raw bit patterns, unscaled values).

    A float device's "no reading" is either a bit pattern (0x7F7FFFFF, 0xFFFFFFFF) or a
    number (-9999): an integer sentinel matches both ways. Comparing patterns, not floats, keeps
    0x80000000 (-0.0) from matching an honest 0.0.
    """
    patterns: set[int] = set()
    values: set[float] = set()
    for value in sentinels:
        pattern = fit_pattern(value, fmt.bits)
        if pattern is not None:
            patterns.add(pattern)
        try:
            values.add(float(value))
        except OverflowError:
            raise CodecError(f"sentinel {value} does not fit {fmt.data_type.value}") from None
    return frozenset(patterns), frozenset(values)


def _require_pattern(value: int, bits: int, what: str) -> int:
    pattern = fit_pattern(value, bits)
    if pattern is None:
        low, high = -(1 << (bits - 1)), (1 << bits) - 1
        raise CodecError(f"sentinel {value} does not fit {what} ({low}..{high}, either spelling)")
    return pattern
