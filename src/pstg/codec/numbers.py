"""Integers and floats of 1, 2 or 4 registers, in any word and byte order."""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from pstg.codec.errors import CodecError, malformed
from pstg.codec.formats import NumericFormat
from pstg.codec.words import register_struct, value_prefix
from pstg.model import Endian


class NumericConverter:
    """Converts between registers and one int16 ... float64 value.

    Built once per (type, word order, byte order); `decode` is two C calls (pack the registers,
    unpack the value) and `encode` the same two in reverse, so both directions share one layout.
    """

    __slots__ = ("fmt", "pattern_struct", "register_count", "registers", "value_struct")

    def __init__(self, fmt: NumericFormat, *, word_order: Endian, byte_order: Endian) -> None:
        self.fmt = fmt
        self.register_count = fmt.registers
        self.registers = register_struct(fmt.registers, word_order, byte_order)
        self.value_struct = struct.Struct(value_prefix(word_order) + fmt.code)
        # The same bytes read as an unsigned integer: float sentinels compare this bit pattern.
        self.pattern_struct = struct.Struct(value_prefix(word_order) + fmt.pattern_code)

    def decode(self, words: Sequence[int]) -> int | float:
        """The value held in `words` (exactly `register_count` registers)."""
        try:
            value: int | float = self.value_struct.unpack(self.registers.pack(*words))[0]
        except struct.error:  # pack() checks the count and every register
            raise malformed(self.fmt.data_type.value, self.register_count, words) from None
        return value

    def decode_pattern(self, words: Sequence[int]) -> tuple[float, int]:
        """A float value and its raw bit pattern as an unsigned integer."""
        try:
            data = self.registers.pack(*words)
        except struct.error:
            raise malformed(self.fmt.data_type.value, self.register_count, words) from None
        value: float = self.value_struct.unpack(data)[0]
        pattern: int = self.pattern_struct.unpack(data)[0]
        return value, pattern

    def encode(self, value: int | float | str) -> list[int]:
        """The registers holding `value`; CodecError when it is not a number of this type."""
        fmt = self.fmt
        if isinstance(value, str):
            raise CodecError(f"{fmt.data_type.value} needs a number, got {value!r}")
        if fmt.is_float:
            try:
                data = self.value_struct.pack(float(value))
            except OverflowError:
                raise CodecError(f"{value!r} does not fit {fmt.data_type.value}") from None
        else:
            number = _as_integer(value, fmt)
            if not fmt.low <= number <= fmt.high:
                raise CodecError(
                    f"{value!r} does not fit {fmt.data_type.value} ({fmt.low}..{fmt.high})"
                )
            data = self.value_struct.pack(number)
        return list(self.registers.unpack(data))


def _as_integer(value: int | float, fmt: NumericFormat) -> int:
    # Integral floats (5.0) are accepted; 5.5 is a caller's bug, not something to round here:
    # rounding belongs to the tag level, after scaling.
    if isinstance(value, int):
        return value
    if not math.isfinite(value) or not value.is_integer():
        raise CodecError(f"{fmt.data_type.value} needs an integer, got {value!r}")
    return int(value)
