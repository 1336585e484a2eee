"""Known vectors: registers as device manuals print them, for every type and layout."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from pstg.codec import decode_words, encode_value
from pstg.model import DataType
from tests.codec.cases import ORDER_BY_NAME


class Vector(NamedTuple):
    data_type: DataType
    order: str  # ABCD, CDAB, BADC or DCBA
    value: int | float | str
    words: list[int]
    length: int | None = None


T = DataType

VECTORS: list[Vector] = [
    # float32 1.0 = 0x3F800000
    Vector(T.FLOAT32, "ABCD", 1.0, [0x3F80, 0x0000]),
    Vector(T.FLOAT32, "CDAB", 1.0, [0x0000, 0x3F80]),
    Vector(T.FLOAT32, "BADC", 1.0, [0x803F, 0x0000]),
    Vector(T.FLOAT32, "DCBA", 1.0, [0x0000, 0x803F]),
    # float32 -2.5 = 0xC0200000, 0.15625 = 0x3E200000, 3.14159274 = 0x40490FDB
    Vector(T.FLOAT32, "ABCD", -2.5, [0xC020, 0x0000]),
    Vector(T.FLOAT32, "ABCD", 0.15625, [0x3E20, 0x0000]),
    Vector(T.FLOAT32, "ABCD", 3.1415927410125732, [0x4049, 0x0FDB]),
    Vector(T.FLOAT32, "CDAB", 3.1415927410125732, [0x0FDB, 0x4049]),
    Vector(T.FLOAT32, "BADC", 3.1415927410125732, [0x4940, 0xDB0F]),
    Vector(T.FLOAT32, "DCBA", 3.1415927410125732, [0xDB0F, 0x4940]),
    # int32 -2 = 0xFFFFFFFE
    Vector(T.INT32, "ABCD", -2, [0xFFFF, 0xFFFE]),
    Vector(T.INT32, "CDAB", -2, [0xFFFE, 0xFFFF]),
    Vector(T.INT32, "BADC", -2, [0xFFFF, 0xFEFF]),
    Vector(T.INT32, "DCBA", -2, [0xFEFF, 0xFFFF]),
    Vector(T.INT32, "ABCD", -(2**31), [0x8000, 0x0000]),
    Vector(T.INT32, "ABCD", 2**31 - 1, [0x7FFF, 0xFFFF]),
    # uint32 0xDEADBEEF
    Vector(T.UINT32, "ABCD", 0xDEADBEEF, [0xDEAD, 0xBEEF]),
    Vector(T.UINT32, "CDAB", 0xDEADBEEF, [0xBEEF, 0xDEAD]),
    Vector(T.UINT32, "BADC", 0xDEADBEEF, [0xADDE, 0xEFBE]),
    Vector(T.UINT32, "DCBA", 0xDEADBEEF, [0xEFBE, 0xADDE]),
    # int16 / uint16: word order is meaningless for one register, byte order is not
    Vector(T.INT16, "ABCD", -2, [0xFFFE]),
    Vector(T.INT16, "CDAB", -2, [0xFFFE]),
    Vector(T.INT16, "BADC", -2, [0xFEFF]),
    Vector(T.INT16, "DCBA", -2, [0xFEFF]),
    Vector(T.INT16, "ABCD", -32768, [0x8000]),
    Vector(T.INT16, "ABCD", 32767, [0x7FFF]),
    Vector(T.UINT16, "ABCD", 0x1234, [0x1234]),
    Vector(T.UINT16, "DCBA", 0x1234, [0x3412]),
    Vector(T.UINT16, "ABCD", 65535, [0xFFFF]),
    # uint64 0x0102030405060708
    Vector(T.UINT64, "ABCD", 0x0102030405060708, [0x0102, 0x0304, 0x0506, 0x0708]),
    Vector(T.UINT64, "CDAB", 0x0102030405060708, [0x0708, 0x0506, 0x0304, 0x0102]),
    Vector(T.UINT64, "BADC", 0x0102030405060708, [0x0201, 0x0403, 0x0605, 0x0807]),
    Vector(T.UINT64, "DCBA", 0x0102030405060708, [0x0807, 0x0605, 0x0403, 0x0201]),
    Vector(T.UINT64, "ABCD", 2**64 - 1, [0xFFFF] * 4),
    # int64 -2 and a value beyond float precision (must stay exact)
    Vector(T.INT64, "ABCD", -2, [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE]),
    Vector(T.INT64, "CDAB", -2, [0xFFFE, 0xFFFF, 0xFFFF, 0xFFFF]),
    Vector(T.INT64, "BADC", -2, [0xFFFF, 0xFFFF, 0xFFFF, 0xFEFF]),
    Vector(T.INT64, "DCBA", -2, [0xFEFF, 0xFFFF, 0xFFFF, 0xFFFF]),
    Vector(T.INT64, "ABCD", 2**53 + 1, [0x0020, 0x0000, 0x0000, 0x0001]),
    # float64 1.0 = 0x3FF0000000000000, -2.5 = 0xC004000000000000
    Vector(T.FLOAT64, "ABCD", 1.0, [0x3FF0, 0x0000, 0x0000, 0x0000]),
    Vector(T.FLOAT64, "CDAB", 1.0, [0x0000, 0x0000, 0x0000, 0x3FF0]),
    Vector(T.FLOAT64, "BADC", 1.0, [0xF03F, 0x0000, 0x0000, 0x0000]),
    Vector(T.FLOAT64, "DCBA", 1.0, [0x0000, 0x0000, 0x0000, 0xF03F]),
    Vector(T.FLOAT64, "ABCD", -2.5, [0xC004, 0x0000, 0x0000, 0x0000]),
    # float64 pi = 0x400921FB54442D18
    Vector(T.FLOAT64, "ABCD", 3.141592653589793, [0x4009, 0x21FB, 0x5444, 0x2D18]),
    Vector(T.FLOAT64, "DCBA", 3.141592653589793, [0x182D, 0x4454, 0xFB21, 0x0940]),
    # strings: "PS-01" in 3 registers, NUL padded
    Vector(T.STRING, "ABCD", "PS-01", [0x5053, 0x2D30, 0x3100], length=3),
    Vector(T.STRING, "BADC", "PS-01", [0x5350, 0x302D, 0x0031], length=3),
    Vector(T.STRING, "CDAB", "PS-01", [0x3100, 0x2D30, 0x5053], length=3),
    Vector(T.STRING, "DCBA", "PS-01", [0x0031, 0x302D, 0x5350], length=3),
    Vector(T.STRING, "ABCD", "PS-01", [0x5053, 0x2D30, 0x3100, 0x0000], length=4),
    Vector(T.STRING, "ABCD", "Pumpe Süd", [0x5075, 0x6D70, 0x6520, 0x53FC, 0x6400], length=5),
    # whole-register bools
    Vector(T.BOOL, "ABCD", 0, [0]),
    Vector(T.BOOL, "ABCD", 1, [1]),
    Vector(T.BOOL, "DCBA", 1, [1]),
]


def _id(vector: Vector) -> str:
    return f"{vector.data_type.value}-{vector.order}-{vector.value!r}"


@pytest.mark.parametrize("vector", VECTORS, ids=_id)
def test_decode_vector(vector: Vector) -> None:
    word_order, byte_order = ORDER_BY_NAME[vector.order]
    value = decode_words(
        vector.words, vector.data_type, word_order=word_order, byte_order=byte_order
    )
    assert value == vector.value
    assert type(value) is type(vector.value)


@pytest.mark.parametrize("vector", VECTORS, ids=_id)
def test_encode_vector(vector: Vector) -> None:
    word_order, byte_order = ORDER_BY_NAME[vector.order]
    words = encode_value(
        vector.value,
        vector.data_type,
        word_order=word_order,
        byte_order=byte_order,
        length=vector.length,
    )
    assert words == vector.words


class BitVector(NamedTuple):
    word: int
    bit: int
    value: int


BIT_VECTORS: list[BitVector] = [
    BitVector(0x0001, 0, 1),
    BitVector(0x0001, 1, 0),
    BitVector(0x8000, 15, 1),
    BitVector(0x8000, 14, 0),
    BitVector(0xFFF7, 3, 0),
    BitVector(0x0008, 3, 1),
    BitVector(0x0000, 7, 0),
]


@pytest.mark.parametrize("vector", BIT_VECTORS, ids=lambda v: f"{v.word:#06x}-bit{v.bit}")
@pytest.mark.parametrize("order", ["ABCD", "DCBA"])
def test_bit_vector(vector: BitVector, order: str) -> None:
    # Bits are numbered in the register's value, so byte order does not move them.
    word_order, byte_order = ORDER_BY_NAME[order]
    value = decode_words(
        [vector.word], DataType.BOOL, word_order=word_order, byte_order=byte_order, bit=vector.bit
    )
    assert value == vector.value


@pytest.mark.parametrize(("word", "expected"), [(0, 0), (1, 1), (2, 1), (0x8000, 1), (0xFFFF, 1)])
def test_whole_register_bool_is_nonzero(word: int, expected: int) -> None:
    value = decode_words(
        [word],
        DataType.BOOL,
        word_order=ORDER_BY_NAME["ABCD"][0],
        byte_order=ORDER_BY_NAME["ABCD"][1],
    )
    assert value == expected


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ([0x5053, 0x2D30, 0x3100, 0x0000], "PS-01"),  # NUL padding
        ([0x5053, 0x2D30, 0x3120, 0x2020], "PS-01"),  # space padding
        ([0x2020, 0x5053, 0x2D30, 0x3100], "PS-01"),  # leading spaces
        ([0x0000, 0x0000], ""),
        ([0x4100, 0x4200], "A\x00B"),  # a NUL inside the text is kept
    ],
)
def test_string_trims_padding(words: list[int], expected: str) -> None:
    word_order, byte_order = ORDER_BY_NAME["ABCD"]
    assert decode_words(words, DataType.STRING, word_order=word_order, byte_order=byte_order) == (
        expected
    )
