"""Malformed input and values that do not fit raise CodecError with a clear message."""

from __future__ import annotations

import math

import pytest

from pstg.codec import CodecError, decode_words, encode_value
from pstg.model import DataType, Endian

T = DataType
BIG, LITTLE = Endian.BIG, Endian.LITTLE


def test_codec_error_is_a_value_error() -> None:
    assert issubclass(CodecError, ValueError)


@pytest.mark.parametrize(
    ("data_type", "words"),
    [
        (T.INT16, []),
        (T.UINT16, [1, 2]),
        (T.INT32, [1]),
        (T.UINT32, [1, 2, 3]),
        (T.FLOAT32, [0x3F80]),
        (T.INT64, [1, 2, 3]),
        (T.UINT64, [1, 2, 3, 4, 5]),
        (T.FLOAT64, [0, 0]),
        (T.BOOL, []),
        (T.BOOL, [0, 1]),
        (T.STRING, []),
    ],
)
@pytest.mark.parametrize("word_order", [BIG, LITTLE])
def test_wrong_word_count(data_type: DataType, words: list[int], word_order: Endian) -> None:
    with pytest.raises(CodecError, match=r"needs \d+ register|at least 1 register"):
        decode_words(words, data_type, word_order=word_order, byte_order=BIG)


@pytest.mark.parametrize(
    ("data_type", "words"),
    [
        (T.UINT16, [70000]),
        (T.INT16, [-1]),
        (T.FLOAT32, [0x3F80, 65536]),
        (T.UINT64, [0, 0, 0, -5]),
        (T.BOOL, [0x10000]),
        (T.BOOL, [-1]),
        (T.STRING, [0x4142, 0x10000]),
    ],
)
def test_register_outside_16_bits(data_type: DataType, words: list[int]) -> None:
    with pytest.raises(CodecError, match=r"0\.\.65535"):
        decode_words(words, data_type, word_order=BIG, byte_order=BIG)


def test_register_must_be_an_integer() -> None:
    with pytest.raises(CodecError, match=r"0\.\.65535"):
        decode_words([1.5, 0], T.FLOAT32, word_order=BIG, byte_order=BIG)  # type: ignore[list-item]
    with pytest.raises(CodecError, match=r"0\.\.65535"):
        decode_words([1.5], T.BOOL, word_order=BIG, byte_order=BIG)  # type: ignore[list-item]


def test_bit_out_of_range() -> None:
    with pytest.raises(CodecError, match=r"0\.\.15"):
        decode_words([1], T.BOOL, word_order=BIG, byte_order=BIG, bit=16)


def test_bit_on_a_number() -> None:
    with pytest.raises(CodecError, match="bit applies only to bool"):
        decode_words([1], T.UINT16, word_order=BIG, byte_order=BIG, bit=0)


@pytest.mark.parametrize(
    ("value", "data_type"),
    [
        (70000, T.UINT16),
        (-1, T.UINT16),
        (32768, T.INT16),
        (-32769, T.INT16),
        (2**32, T.UINT32),
        (-(2**31) - 1, T.INT32),
        (2**64, T.UINT64),
        (2**63, T.INT64),
        (1e39, T.FLOAT32),
        (2.5, T.INT16),  # rounding belongs to the tag level, after scaling
        (math.nan, T.INT32),
        (math.inf, T.UINT16),
        ("12", T.UINT16),
        ("1.0", T.FLOAT32),
        (2, T.BOOL),
        (0.5, T.BOOL),
        ("true", T.BOOL),
        (12, T.STRING),
    ],
)
def test_encode_value_that_does_not_fit(value: int | float | str, data_type: DataType) -> None:
    with pytest.raises(CodecError):
        encode_value(value, data_type, word_order=BIG, byte_order=BIG)


def test_encode_overflow_message_names_the_type_and_bounds() -> None:
    with pytest.raises(CodecError, match=r"70000 does not fit uint16 \(0\.\.65535\)"):
        encode_value(70000, T.UINT16, word_order=BIG, byte_order=BIG)


def test_encode_integral_float_into_integer_type() -> None:
    assert encode_value(5.0, T.INT16, word_order=BIG, byte_order=BIG) == [5]


def test_encode_string_too_long() -> None:
    with pytest.raises(CodecError, match="3 register"):
        encode_value("PUMPSTATION", T.STRING, word_order=BIG, byte_order=BIG, length=3)


def test_encode_string_outside_latin1() -> None:
    with pytest.raises(CodecError, match="Latin-1"):
        encode_value("Pumpe €", T.STRING, word_order=BIG, byte_order=BIG, length=8)


def test_encode_string_default_length_is_just_enough() -> None:
    assert encode_value("PS-01", T.STRING, word_order=BIG, byte_order=BIG) == [
        0x5053,
        0x2D30,
        0x3100,
    ]
    assert encode_value("", T.STRING, word_order=BIG, byte_order=BIG) == [0]


def test_length_must_match_a_fixed_type() -> None:
    assert encode_value(1, T.UINT32, word_order=BIG, byte_order=BIG, length=2) == [0, 1]
    with pytest.raises(CodecError, match="not length 3"):
        encode_value(1, T.UINT32, word_order=BIG, byte_order=BIG, length=3)
