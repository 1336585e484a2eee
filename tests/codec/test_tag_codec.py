"""The tag level: scale/offset, sentinels, NaN/inf, range, bools, strings, writes."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pstg.codec import NO_READING, CodecError, Decoded, TagCodec, compile_tag
from pstg.config.models import DeviceConfig, TagConfig
from pstg.model import DataType, Endian, Quality, QualityReason

GOOD, UNCERTAIN, BAD = Quality.GOOD, Quality.UNCERTAIN, Quality.BAD


def make_codec(device: dict[str, Any] | None = None, **tag: Any) -> TagCodec:
    tag.setdefault("name", "t")
    tag.setdefault("source", "holding_register")
    tag.setdefault("address", 0)
    config = DeviceConfig.model_validate({"id": "plc1", **(device or {})})
    return compile_tag(TagConfig.model_validate(tag), config)


def good(value: float | str) -> Decoded:
    return Decoded(value, GOOD, QualityReason.NONE)


def uncertain(value: float) -> Decoded:
    return Decoded(value, UNCERTAIN, QualityReason.OUT_OF_RANGE)


class Case(NamedTuple):
    id: str
    tag: dict[str, Any]
    words: list[int]
    expected: Decoded
    device: dict[str, Any] | None = None


F32_NAN = [0x7FC0, 0x0000]
F32_INF = [0x7F80, 0x0000]
F32_NEG_INF = [0xFF80, 0x0000]
F32_MINUS_9999 = [0xC61C, 0x3C00]  # -9999.0

DECODE_CASES: list[Case] = [
    # defaults: uint16 from a register, bool from a coil
    Case("default-uint16", {}, [1234], good(1234.0)),
    Case("coil-0", {"source": "coil"}, [0], good(0.0)),
    Case("coil-1", {"source": "coil"}, [1], good(1.0)),
    Case("coil-true", {"source": "discrete_input"}, [True], good(1.0)),
    # scale and offset: value = raw * scale + offset
    Case("scale", {"type": "int16", "scale": 0.1}, [0xFF9C], good(-10.0)),  # -100
    Case("offset", {"scale": 0.01, "offset": -40.0}, [6500], good(25.0)),
    Case("scale-float", {"type": "float32", "scale": 2.0, "offset": 1.0}, [0x3F80, 0], good(3.0)),
    Case("scale-uint32", {"type": "uint32", "scale": 0.001}, [0x0001, 0x86A0], good(100.0)),
    # device defaults and tag overrides of word/byte order
    Case("device-cdab", {"type": "float32"}, [0, 0x3F80], good(1.0), {"word_order": "little"}),
    Case(
        "tag-overrides-device",
        {"type": "float32", "word_order": "big"},
        [0x3F80, 0],
        good(1.0),
        {"word_order": "little"},
    ),
    Case("device-badc", {"type": "uint16"}, [0x3412], good(4660.0), {"byte_order": "little"}),
    # sentinels: the raw integer, written signed or unsigned
    Case("int16-sentinel-signed", {"type": "int16", "sentinels": [-32768]}, [0x8000], NO_READING),
    Case("int16-sentinel-unsigned", {"type": "int16", "sentinels": [32768]}, [0x8000], NO_READING),
    Case("uint16-sentinel-signed", {"type": "uint16", "sentinels": [-32768]}, [0x8000], NO_READING),
    Case("uint16-sentinel-hex", {"type": "uint16", "sentinels": [0x8000]}, [0x8000], NO_READING),
    Case("uint16-sentinel-minus-1", {"sentinels": [-1]}, [0xFFFF], NO_READING),
    Case("sentinel-before-scaling", {"scale": 0.1, "sentinels": [32767]}, [32767], NO_READING),
    Case("not-a-sentinel", {"type": "int16", "sentinels": [32767]}, [32766], good(32766.0)),
    Case("int32-sentinel", {"type": "int32", "sentinels": [-1]}, [0xFFFF, 0xFFFF], NO_READING),
    Case(
        "uint32-sentinel-signed",
        {"type": "uint32", "sentinels": [-(2**31)]},
        [0x8000, 0x0000],
        NO_READING,
    ),
    Case(
        "int32-sentinel-not-16-bit",  # 0x8000 is a 16-bit sentinel: as int32 it is 32768
        {"type": "int32", "sentinels": [0x8000]},
        [0xFFFF, 0x8000],
        good(-32768.0),
    ),
    Case(
        "int32-sentinel-cdab",
        {"type": "int32", "word_order": "little", "sentinels": [0x7FFFFFFF]},
        [0xFFFF, 0x7FFF],
        NO_READING,
    ),
    Case("int64-sentinel", {"type": "int64", "sentinels": [2**64 - 1]}, [0xFFFF] * 4, NO_READING),
    # float sentinels: the raw bit pattern or the unscaled value
    Case(
        "float-sentinel-value",
        {"type": "float32", "sentinels": [-9999]},
        F32_MINUS_9999,
        NO_READING,
    ),
    Case(
        "float-sentinel-pattern",
        {"type": "float32", "sentinels": [0x7F7FFFFF]},
        [0x7F7F, 0xFFFF],
        NO_READING,
    ),
    Case(
        "float-minus-zero-pattern-not-zero",
        {"type": "float32", "sentinels": [0x80000000]},
        [0x0000, 0x0000],
        good(0.0),
    ),
    Case(
        "float-minus-zero-pattern",
        {"type": "float32", "sentinels": [0x80000000]},
        [0x8000, 0x0000],
        NO_READING,
    ),
    Case(
        "float64-sentinel-value",
        {"type": "float64", "sentinels": [-9999], "scale": 10},
        [0xC0C3, 0x8780, 0x0000, 0x0000],
        NO_READING,
    ),
    Case("float-not-sentinel", {"type": "float32", "sentinels": [-9999]}, [0x3F80, 0], good(1.0)),
    # NaN and infinities: no reading
    Case("nan", {"type": "float32"}, F32_NAN, NO_READING),
    Case("inf", {"type": "float32"}, F32_INF, NO_READING),
    Case("minus-inf", {"type": "float32"}, F32_NEG_INF, NO_READING),
    Case("nan-float64", {"type": "float64"}, [0x7FF8, 0, 0, 0], NO_READING),
    Case("nan-with-range", {"type": "float32", "range": [0, 10]}, F32_NAN, NO_READING),
    Case("nan-with-sentinels", {"type": "float32", "sentinels": [-9999]}, F32_NAN, NO_READING),
    Case("scaled-to-inf", {"type": "float32", "scale": 1e300}, [0x7F7F, 0xFFFF], NO_READING),
    # range: checked on the scaled value, which is kept
    Case("in-range", {"range": [0, 100], "scale": 0.1}, [1000], good(100.0)),
    Case("above-range", {"range": [0, 100], "scale": 0.1}, [1001], uncertain(1001 * 0.1)),
    Case("below-range", {"type": "int16", "range": [0, 100]}, [0xFFFF], uncertain(-1.0)),
    Case("range-on-bool", {"type": "bool", "range": [0, 0]}, [1], uncertain(1.0)),
    # bools in registers: the whole register, or one bit
    Case("bool-register-0", {"type": "bool"}, [0], good(0.0)),
    Case("bool-register-nonzero", {"type": "bool"}, [0x0100], good(1.0)),
    Case("bool-bit-0", {"type": "bool", "bit": 0}, [0x0001], good(1.0)),
    Case("bool-bit-15", {"type": "bool", "bit": 15}, [0x7FFF], good(0.0)),
    Case("bool-bit-byte-order", {"type": "bool", "bit": 0, "byte_order": "little"}, [1], good(1.0)),
    Case(
        "bool-sentinel-register",
        {"type": "bool", "bit": 0, "sentinels": [0xFFFF]},
        [0xFFFF],
        NO_READING,
    ),
    # strings: text, always good; device word order does not reverse them
    Case("string", {"type": "string", "length": 3}, [0x5053, 0x2D30, 0x3100], good("PS-01")),
    Case(
        "string-device-word-order-ignored",
        {"type": "string", "length": 3},
        [0x5053, 0x2D30, 0x3100],
        good("PS-01"),
        {"word_order": "little"},
    ),
    Case(
        "string-tag-word-order",
        {"type": "string", "length": 3, "word_order": "little"},
        [0x3100, 0x2D30, 0x5053],
        good("PS-01"),
    ),
    Case(
        "string-device-byte-order",
        {"type": "string", "length": 3},
        [0x5350, 0x302D, 0x0031],
        good("PS-01"),
        {"byte_order": "little"},
    ),
]


@pytest.mark.parametrize("case", DECODE_CASES, ids=lambda case: case.id)
def test_decode(case: Case) -> None:
    codec = make_codec(case.device, **case.tag)
    decoded = codec.decode(case.words)
    assert decoded == case.expected
    assert type(decoded.value) is type(case.expected.value)
    assert (decoded.value is None) == (decoded.quality is BAD)


def test_decoded_fields() -> None:
    decoded = make_codec(scale=0.5).decode([3])
    value, quality, reason = decoded
    assert (value, quality, reason) == (1.5, GOOD, QualityReason.NONE)
    assert isinstance(decoded, Decoded)
    assert decoded.value == 1.5
    assert decoded.quality is GOOD
    assert decoded.reason is QualityReason.NONE


@pytest.mark.parametrize(
    ("tag", "words", "match"),
    [
        ({"type": "float32"}, [0x3F80], "needs 2 register"),
        ({"type": "float32"}, [0x3F80, 0, 0], "needs 2 register"),
        ({"type": "float32", "sentinels": [1]}, [0x3F80], "needs 2 register"),
        ({"type": "uint16"}, [], "needs 1 register"),
        ({"type": "uint16"}, [70000], r"0\.\.65535"),
        ({"type": "bool", "bit": 2}, [1, 2], "needs 1 register"),
        ({"source": "coil"}, [], "needs 1 register"),
        ({"type": "string", "length": 2}, [0x4142], "needs 2 register"),
    ],
)
def test_decode_malformed_words(tag: dict[str, Any], words: list[int], match: str) -> None:
    with pytest.raises(CodecError, match=match):
        make_codec(**tag).decode(words)


class Compiled(NamedTuple):
    tag: dict[str, Any]
    data_type: DataType
    register_count: int
    word_order: Endian
    byte_order: Endian


@pytest.mark.parametrize(
    "case",
    [
        Compiled({}, DataType.UINT16, 1, Endian.BIG, Endian.BIG),
        Compiled({"source": "coil"}, DataType.BOOL, 1, Endian.BIG, Endian.BIG),
        Compiled({"type": "float64"}, DataType.FLOAT64, 4, Endian.BIG, Endian.BIG),
        Compiled({"type": "string", "length": 10}, DataType.STRING, 10, Endian.BIG, Endian.BIG),
        Compiled(
            {"type": "int32", "byte_order": "little"}, DataType.INT32, 2, Endian.BIG, Endian.LITTLE
        ),
    ],
)
def test_compiled_shape(case: Compiled) -> None:
    codec = make_codec(**case.tag)
    assert codec.data_type is case.data_type
    assert codec.register_count == case.register_count
    assert codec.word_order is case.word_order
    assert codec.byte_order is case.byte_order
    assert repr(codec).startswith("TagCodec('t',")


@pytest.mark.parametrize(
    ("tag", "match"),
    [
        ({"type": "uint16", "sentinels": [70000]}, "sentinel 70000 does not fit uint16"),
        ({"type": "int16", "sentinels": [-32769]}, "sentinel -32769 does not fit int16"),
        ({"type": "uint32", "sentinels": [2**32]}, "does not fit uint32"),
        ({"type": "bool", "sentinels": [0x10000]}, "does not fit bool"),
        ({"type": "float64", "sentinels": [2**1100]}, "does not fit float64"),
        ({"type": "bool", "scale": 2.0}, "bool tag cannot have scale"),
        ({"type": "bool", "bit": 1, "offset": 1.0}, "bool tag cannot have scale"),
        ({"source": "coil", "sentinels": [1]}, "bool tag cannot have sentinels"),
        ({"type": "string", "length": 2, "scale": 0.1}, "string tag cannot have scale"),
        ({"type": "string", "length": 2, "sentinels": [0]}, "string tag cannot have sentinels"),
        ({"type": "string", "length": 2, "range": [0, 1]}, "string tag cannot have a range"),
    ],
)
def test_compile_refuses_settings_that_cannot_work(tag: dict[str, Any], match: str) -> None:
    with pytest.raises(CodecError, match=match) as caught:
        make_codec(**tag)
    assert str(caught.value).startswith("tag t: ")


def test_float_sentinel_wider_than_pattern_still_matches_value() -> None:
    codec = make_codec(type="float32", sentinels=[2**40])
    assert codec.decode(codec.encode(float(2**40))) == NO_READING


# --- encode -------------------------------------------------------------------------------


class EncodeCase(NamedTuple):
    id: str
    tag: dict[str, Any]
    value: float | str | bool
    words: list[int]


ENCODE_CASES: list[EncodeCase] = [
    EncodeCase("uint16", {}, 1234, [1234]),
    EncodeCase("uint16-float", {}, 1234.0, [1234]),
    EncodeCase("scale-inverse", {"scale": 0.1}, 12.3, [123]),
    EncodeCase("scale-offset-inverse", {"scale": 0.01, "offset": -40.0}, 25.0, [6500]),
    EncodeCase("round-to-nearest", {"scale": 0.1}, 12.34, [123]),
    EncodeCase("round-up", {"scale": 0.1}, 12.36, [124]),
    EncodeCase("negative-scaled", {"type": "int16", "scale": 0.1}, -10.0, [0xFF9C]),
    EncodeCase("float32", {"type": "float32", "scale": 2.0, "offset": 1.0}, 3.0, [0x3F80, 0]),
    EncodeCase("float32-cdab", {"type": "float32", "word_order": "little"}, 1.0, [0, 0x3F80]),
    EncodeCase("int64-exact", {"type": "int64"}, 2**53 + 1, [0x0020, 0, 0, 1]),
    EncodeCase("bool-register-true", {"type": "bool"}, True, [1]),
    EncodeCase("bool-register-0", {"type": "bool"}, 0, [0]),
    EncodeCase("coil-true", {"source": "coil"}, True, [1]),
    EncodeCase("coil-1.0", {"source": "coil"}, 1.0, [1]),
    EncodeCase("string", {"type": "string", "length": 4}, "PS-01", [0x5053, 0x2D30, 0x3100, 0]),
    EncodeCase(
        "string-byte-order",
        {"type": "string", "length": 3, "byte_order": "little"},
        "PS-01",
        [0x5350, 0x302D, 0x0031],
    ),
]


@pytest.mark.parametrize("case", ENCODE_CASES, ids=lambda case: case.id)
def test_encode(case: EncodeCase) -> None:
    codec = make_codec(**case.tag)
    words = codec.encode(case.value)
    assert words == case.words
    assert codec.encode(case.value) == words  # no state carried between calls


@pytest.mark.parametrize(
    ("tag", "value", "match"),
    [
        ({}, 70000, r"70000 does not fit uint16"),
        ({}, -1, "does not fit uint16"),
        ({"scale": 0.1}, 6553.6, "65536 does not fit uint16"),
        ({"type": "int16", "offset": 40000}, 0, "does not fit int16"),
        ({"type": "float32"}, 1e39, "does not fit float32"),
        ({"type": "float32"}, 10**400, "does not fit float32"),
        ({"type": "float32", "scale": 2.0}, 10**400, "does not fit float32"),
        ({}, math.nan, "not a finite number"),
        ({"type": "float32"}, math.inf, "not a finite number"),
        ({}, "12", "needs a number"),
        ({"type": "float64"}, "1.5", "needs a number"),
        ({"type": "string", "length": 2}, 12, "needs text"),
        ({"type": "string", "length": 2}, "PUMP-1", "2 register"),
        ({"type": "bool"}, 2, "bool needs true/false or 0/1"),
        ({"source": "coil"}, "on", "bool needs true/false or 0/1"),
        ({"type": "bool", "bit": 3}, True, "pass current="),
    ],
)
def test_encode_refuses(tag: dict[str, Any], value: float | str | bool, match: str) -> None:
    with pytest.raises(CodecError, match=match) as caught:
        make_codec(**tag).encode(value)
    assert str(caught.value).startswith("t: ")


def test_bit_encode_is_read_modify_write() -> None:
    codec = make_codec(type="bool", bit=3)
    assert codec.read_modify_write
    assert codec.encode(True, current=[0x1200]) == [0x1208]
    assert codec.encode(False, current=[0xFFFF]) == [0xFFF7]
    assert codec.encode(1, current=[0x0008]) == [0x0008]
    with pytest.raises(CodecError, match=r"0\.\.65535"):
        codec.encode(True, current=[0x10000])
    assert not make_codec(type="bool").read_modify_write
    assert not make_codec(source="coil").read_modify_write


SCALES = [1.0, 0.1, 0.01, 0.001, 2.5, -1.0, 1 / 3]
OFFSETS = [0.0, -40.0, 273.15, 1000.5]


@pytest.mark.parametrize("data_type", ["int16", "uint16", "int32", "uint32"])
@given(
    word_data=st.data(),
    scale=st.sampled_from(SCALES),
    offset=st.sampled_from(OFFSETS),
)
def test_scaled_integer_words_round_trip(
    data_type: str, word_data: st.DataObject, scale: float, offset: float
) -> None:
    codec = make_codec(type=data_type, scale=scale, offset=offset)
    words = word_data.draw(
        st.lists(
            st.integers(0, 0xFFFF), min_size=codec.register_count, max_size=codec.register_count
        )
    )
    decoded = codec.decode(words)
    assert isinstance(decoded.value, float)
    assert codec.encode(decoded.value) == words


@given(value=st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_unscaled_float32_value_round_trips(value: float) -> None:
    codec = make_codec(type="float32", word_order="little")
    decoded = codec.decode(codec.encode(value))
    assert decoded == good(value)


@given(value=st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_unscaled_int64_encode_is_exact(value: int) -> None:
    # An int is written as is: going through a float would lose the low bits above 2**53.
    codec = make_codec(type="int64")
    words = codec.encode(value)
    assert int.from_bytes(b"".join(w.to_bytes(2, "big") for w in words), "big", signed=True) == (
        value
    )
    assert codec.decode(words).value == float(value)


def test_tags_with_the_same_settings_share_a_compiled_decoder_under_their_own_names():
    level = make_codec(name="level", type="float32", scale=0.5, unit="m", description="x")
    flow = make_codec(name="flow", type="float32", scale=0.5, address=7, deadband=1.0)
    other = make_codec(name="other", type="float32", scale=2.0)
    assert (level.name, flow.name) == ("level", "flow")
    assert flow.decode is level.decode  # compiled once: unit, address, deadband do not matter
    assert other.decode is not level.decode  # scale does
    assert flow.decode([0x3F80, 0]) == good(0.5)
    with pytest.raises(CodecError, match=r"^flow: "):
        flow.encode("text")


def test_little_endian_devices_do_not_share_a_big_endian_decoder():
    big = make_codec(name="a", type="uint32")
    little = make_codec({"word_order": "little"}, name="b", type="uint32")
    assert big.decode([1, 0]) == good(65536)
    assert little.decode([1, 0]) == good(1)


def test_a_refusal_names_each_tag_that_has_it():
    for name in ("run1", "run2"):
        with pytest.raises(CodecError, match=rf"^tag {name}: a bool tag cannot have scale"):
            make_codec(name=name, source="coil", scale=2)
