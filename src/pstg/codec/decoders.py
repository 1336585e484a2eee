"""Per-tag decode functions, specialized once at start-up for the poll loop.

Each builder returns a closure over everything it needs (struct methods, scale, offset,
sentinels, range) so a sample costs one Python call, two struct calls and a few comparisons:
no attribute lookups, no branching on the tag's type per sample.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

from pstg.codec.bits import single_register
from pstg.codec.decoded import NO_READING, Decoded
from pstg.codec.errors import malformed
from pstg.codec.numbers import NumericConverter
from pstg.codec.strings import StringConverter
from pstg.model import Quality, QualityReason

DecodeFn = Callable[[Sequence[int]], Decoded]

_new = tuple.__new__
_GOOD, _NONE = Quality.GOOD, QualityReason.NONE
_UNCERTAIN, _OUT_OF_RANGE = Quality.UNCERTAIN, QualityReason.OUT_OF_RANGE
_StructError = struct.error


def numeric_decoder(
    conv: NumericConverter,
    *,
    scale: float,
    offset: float,
    sentinels: frozenset[int] | frozenset[float],
    low: float,
    high: float,
) -> DecodeFn:
    """Integers (sentinels compared with the raw integer) and floats without sentinels."""
    count = conv.register_count
    pack = conv.registers.pack
    unpack = conv.value_struct.unpack
    type_name = conv.fmt.data_type.value

    def decode(words: Sequence[int]) -> Decoded:
        try:
            raw = unpack(pack(*words))[0]
        except _StructError:  # pack() checks the count and every register: no check before
            raise malformed(type_name, count, words) from None
        if raw in sentinels:
            return NO_READING
        value = raw * scale + offset
        if value - value != 0.0:  # NaN or ±inf, without a function call
            return NO_READING
        if value < low or value > high:
            return _new(Decoded, (value, _UNCERTAIN, _OUT_OF_RANGE))
        return _new(Decoded, (value, _GOOD, _NONE))

    return decode


def float_sentinel_decoder(
    conv: NumericConverter,
    *,
    scale: float,
    offset: float,
    patterns: frozenset[int],
    values: frozenset[float],
    low: float,
    high: float,
) -> DecodeFn:
    """Floats with sentinels: compared with the raw bit pattern and with the unscaled value."""
    decode_pattern = conv.decode_pattern

    def decode(words: Sequence[int]) -> Decoded:
        raw, pattern = decode_pattern(words)
        if pattern in patterns or raw in values:
            return NO_READING
        value = raw * scale + offset
        if value - value != 0.0:
            return NO_READING
        if value < low or value > high:
            return _new(Decoded, (value, _UNCERTAIN, _OUT_OF_RANGE))
        return _new(Decoded, (value, _GOOD, _NONE))

    return decode


def bool_decoder(
    *, mask: int, what: str, sentinels: frozenset[int], low: float, high: float
) -> DecodeFn:
    """A register bit (`mask` = 1 << bit), a whole register (`mask` = 0xFFFF) or a coil."""

    def decode(words: Sequence[int]) -> Decoded:
        word = single_register(words, what)
        if word in sentinels:  # the whole register: a bit alone cannot say "no reading"
            return NO_READING
        value = 1.0 if word & mask else 0.0
        if value < low or value > high:
            return _new(Decoded, (value, _UNCERTAIN, _OUT_OF_RANGE))
        return _new(Decoded, (value, _GOOD, _NONE))

    return decode


def string_decoder(conv: StringConverter) -> DecodeFn:
    """Text: always good once the registers are well-formed."""
    text_of = conv.decode

    def decode(words: Sequence[int]) -> Decoded:
        return _new(Decoded, (text_of(words), _GOOD, _NONE))

    return decode
