"""The raw level: registers <-> one unscaled value, for any type, word order and byte order.

`decode_words` and `encode_value` are the two public entry points; both go through the same
cached converter objects that `compile_tag` uses, so reading and writing share one layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from pstg.codec.bits import BitConverter, BoolConverter
from pstg.codec.errors import CodecError
from pstg.codec.formats import NUMERIC_FORMATS
from pstg.codec.numbers import NumericConverter
from pstg.codec.strings import StringConverter, registers_for, string_converter
from pstg.model import DataType, Endian

RawValue = int | float | str
"""An unscaled value: an integer or float as stored, 0/1 for bools, text for strings."""


Converter = NumericConverter | BoolConverter | BitConverter | StringConverter
"""Registers <-> one raw value of a fixed shape; every kind has `register_count`, `decode` and
`encode`, and the tag level picks its decode function by kind."""


@lru_cache(maxsize=256)
def fixed_converter(
    data_type: DataType, word_order: Endian, byte_order: Endian, bit: int | None = None
) -> NumericConverter | BoolConverter | BitConverter:
    """The converter of a fixed-size type (everything but string); cached per shape."""
    if bit is not None and data_type is not DataType.BOOL:
        raise CodecError(f"bit applies only to bool, not {data_type.value}")
    if data_type is DataType.BOOL:
        return BoolConverter() if bit is None else BitConverter(bit)
    fmt = NUMERIC_FORMATS.get(data_type)
    if fmt is None:
        raise CodecError(f"{data_type!r} is not a fixed-size type")
    return NumericConverter(fmt, word_order=word_order, byte_order=byte_order)


def converter(
    data_type: DataType,
    *,
    word_order: Endian,
    byte_order: Endian,
    bit: int | None = None,
    length: int | None = None,
) -> Converter:
    """The converter for one shape. `length` (registers) is required for strings."""
    if data_type is DataType.STRING:
        if bit is not None:
            raise CodecError("bit applies only to bool, not string")
        if length is None:
            raise CodecError("a string needs a length (number of registers)")
        return string_converter(length, word_order, byte_order)
    found = fixed_converter(data_type, word_order, byte_order, bit)
    if length is not None and length != found.register_count:
        raise CodecError(
            f"{data_type.value} is {found.register_count} register(s), not length {length}"
        )
    return found


def decode_words(
    words: Sequence[int],
    data_type: DataType,
    *,
    word_order: Endian,
    byte_order: Endian,
    bit: int | None = None,
) -> int | float | str:
    """The raw value in `words`: int for integer types and bools (0/1), float, or str.

    A string takes all of `words`; every other type needs exactly its register count.
    Raises CodecError for a wrong number of registers or a register outside 0..65535.
    """
    length = len(words) if data_type is DataType.STRING else None
    if length == 0:
        raise CodecError("string needs at least 1 register, got 0: []")
    conv = converter(
        data_type, word_order=word_order, byte_order=byte_order, bit=bit, length=length
    )
    return conv.decode(words)


def encode_value(
    value: int | float | str,
    data_type: DataType,
    *,
    word_order: Endian,
    byte_order: Endian,
    length: int | None = None,
) -> list[int]:
    """The registers that hold `value`; the inverse of `decode_words`.

    `length` is the register count of a string (default: just enough for the text); for other
    types it may be given only if it matches. Raises CodecError when the value does not fit.
    A single bit cannot be encoded alone (see `TagCodec.encode` with `current=`).
    """
    if data_type is DataType.STRING and length is None:
        # Just enough registers for the text; a non-text value is refused by the converter.
        length = registers_for(value) if isinstance(value, str) else 1
    conv = converter(data_type, word_order=word_order, byte_order=byte_order, length=length)
    return conv.encode(value)
