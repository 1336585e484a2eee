"""Property tests: every type x word order x byte order round-trips, and agrees with the
reference layout in `cases.py`."""

from __future__ import annotations

import math
import struct
from typing import Literal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pstg.codec import decode_words, encode_value
from pstg.codec.bits import BitConverter
from pstg.codec.formats import NUMERIC_FORMATS, NumericFormat
from pstg.model import DataType, Endian
from tests.codec.cases import ORDERS, reference_bytes, reference_value

INTEGER_FORMATS = [fmt for fmt in NUMERIC_FORMATS.values() if not fmt.is_float]
FLOAT_FORMATS = [fmt for fmt in NUMERIC_FORMATS.values() if fmt.is_float]

orders = pytest.mark.parametrize(("order", "word_order", "byte_order"), ORDERS)
integer_types = pytest.mark.parametrize("fmt", INTEGER_FORMATS, ids=lambda f: f.data_type.value)
float_types = pytest.mark.parametrize("fmt", FLOAT_FORMATS, ids=lambda f: f.data_type.value)

register = st.integers(min_value=0, max_value=0xFFFF)


def registers(count: int) -> st.SearchStrategy[list[int]]:
    return st.lists(register, min_size=count, max_size=count)


def float_bits(value: float, fmt: NumericFormat) -> int:
    """The bit pattern of `value` stored as `fmt`: tells -0.0 from 0.0."""
    code = fmt.code
    pattern: int = struct.unpack(">" + fmt.pattern_code, struct.pack(">" + code, value))[0]
    return pattern


@orders
@integer_types
@given(data=st.data())
def test_integer_value_round_trips(
    fmt: NumericFormat, order: str, word_order: Endian, byte_order: Endian, data: st.DataObject
) -> None:
    value = data.draw(st.integers(min_value=fmt.low, max_value=fmt.high))
    words = encode_value(value, fmt.data_type, word_order=word_order, byte_order=byte_order)
    assert len(words) == fmt.registers
    assert all(0 <= word <= 0xFFFF for word in words)
    assert decode_words(words, fmt.data_type, word_order=word_order, byte_order=byte_order) == value


@orders
@integer_types
@given(data=st.data())
def test_integer_words_round_trip_and_match_reference(
    fmt: NumericFormat, order: str, word_order: Endian, byte_order: Endian, data: st.DataObject
) -> None:
    words = data.draw(registers(fmt.registers))
    value = decode_words(words, fmt.data_type, word_order=word_order, byte_order=byte_order)
    assert value == reference_value(words, fmt.code, word_order, byte_order)
    assert encode_value(value, fmt.data_type, word_order=word_order, byte_order=byte_order) == words


@orders
@float_types
@given(data=st.data())
def test_float_value_round_trips(
    fmt: NumericFormat, order: str, word_order: Endian, byte_order: Endian, data: st.DataObject
) -> None:
    width: Literal[32, 64] = 32 if fmt.data_type is DataType.FLOAT32 else 64
    value = data.draw(st.floats(width=width, allow_nan=False))
    words = encode_value(value, fmt.data_type, word_order=word_order, byte_order=byte_order)
    decoded = decode_words(words, fmt.data_type, word_order=word_order, byte_order=byte_order)
    assert isinstance(decoded, float)
    assert float_bits(decoded, fmt) == float_bits(value, fmt)


@orders
@float_types
@given(data=st.data())
def test_float_words_round_trip_and_match_reference(
    fmt: NumericFormat, order: str, word_order: Endian, byte_order: Endian, data: st.DataObject
) -> None:
    words = data.draw(registers(fmt.registers))
    value = decode_words(words, fmt.data_type, word_order=word_order, byte_order=byte_order)
    expected = reference_value(words, fmt.code, word_order, byte_order)
    assert isinstance(value, float)
    assert isinstance(expected, float)
    if math.isnan(expected):
        # NaN payloads may not survive a float32 -> double -> float32 trip: only NaN-ness is kept.
        assert math.isnan(value)
        return
    assert value == expected
    assert encode_value(value, fmt.data_type, word_order=word_order, byte_order=byte_order) == words


@orders
@given(value=st.sampled_from([0, 1, False, True, 0.0, 1.0]))
def test_bool_value_round_trips(
    order: str, word_order: Endian, byte_order: Endian, value: int | float
) -> None:
    words = encode_value(value, DataType.BOOL, word_order=word_order, byte_order=byte_order)
    assert words == [int(value)]
    assert decode_words(words, DataType.BOOL, word_order=word_order, byte_order=byte_order) == value


@orders
@given(word=register)
def test_bool_words_round_trip_where_zero_or_one(
    order: str, word_order: Endian, byte_order: Endian, word: int
) -> None:
    value = decode_words([word], DataType.BOOL, word_order=word_order, byte_order=byte_order)
    assert value == (1 if word else 0)
    words = encode_value(value, DataType.BOOL, word_order=word_order, byte_order=byte_order)
    assert words == ([word] if word in (0, 1) else [1])


@orders
@given(word=register, bit=st.integers(min_value=0, max_value=15), value=st.sampled_from([0, 1]))
def test_bit_round_trips_and_keeps_other_bits(
    order: str, word_order: Endian, byte_order: Endian, word: int, bit: int, value: int
) -> None:
    decoded = decode_words(
        [word], DataType.BOOL, word_order=word_order, byte_order=byte_order, bit=bit
    )
    assert decoded == (word >> bit) & 1
    converter = BitConverter(bit)
    assert converter.encode_into(decoded, [word]) == [word]  # decode then encode: same register
    written = converter.encode_into(value, [word])
    assert written[0] & ~(1 << bit) == word & ~(1 << bit)  # the other 15 bits untouched
    read_back = decode_words(
        written, DataType.BOOL, word_order=word_order, byte_order=byte_order, bit=bit
    )
    assert read_back == value


# Latin-1 text without padding characters at its ends (those are trimmed by design).
texts = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255)).map(
    lambda text: text.strip("\x00 ")
)


@orders
@given(text=texts, extra=st.integers(min_value=0, max_value=3))
def test_string_value_round_trips(
    order: str, word_order: Endian, byte_order: Endian, text: str, extra: int
) -> None:
    length = max(1, (len(text) + 1) // 2) + extra
    words = encode_value(
        text, DataType.STRING, word_order=word_order, byte_order=byte_order, length=length
    )
    assert len(words) == length
    assert reference_bytes(words, word_order, byte_order).rstrip(b"\x00") == text.encode("latin-1")
    assert (
        decode_words(words, DataType.STRING, word_order=word_order, byte_order=byte_order) == text
    )


@orders
@given(words=st.lists(register, min_size=1, max_size=8))
def test_string_words_round_trip_where_padding_allows(
    order: str, word_order: Endian, byte_order: Endian, words: list[int]
) -> None:
    data = reference_bytes(words, word_order, byte_order)
    text = decode_words(words, DataType.STRING, word_order=word_order, byte_order=byte_order)
    assert text == data.decode("latin-1").strip("\x00 ")
    # Only NUL padding at the end, nothing trimmable at the start: the registers come back.
    assume(
        data.lstrip(b"\x00 ") == data and data.rstrip(b"\x00").rstrip(b" ") == data.rstrip(b"\x00")
    )
    again = encode_value(
        text, DataType.STRING, word_order=word_order, byte_order=byte_order, length=len(words)
    )
    assert again == words
