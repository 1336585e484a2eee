"""BlockDecoder must give exactly what each tag's own decoder gives, for any tags and words."""

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from pstg.codec import BlockDecoder, CodecError, compile_tag
from pstg.config.models import DeviceConfig, TagConfig
from pstg.model import DataType, Endian, QualityReason, Sample

TS = datetime(2026, 11, 27, tzinfo=UTC)
BLOCK = 24
WIDTH = {
    "int16": 1,
    "uint16": 1,
    "bool": 1,
    "int32": 2,
    "uint32": 2,
    "float32": 2,
    "int64": 4,
    "uint64": 4,
    "float64": 4,
    "string": 3,
}


@st.composite
def tag_fields(draw, index):
    type_ = draw(st.sampled_from(sorted(WIDTH)))
    width = WIDTH[type_]
    fields = {
        "name": f"t{index}",
        "source": "holding_register",
        "address": draw(st.integers(0, BLOCK - width)),
        "type": type_,
        "word_order": draw(st.sampled_from(["big", "little"])),
        "byte_order": draw(st.sampled_from(["big", "little"])),
    }
    if type_ == "string":
        fields["length"] = width
        return fields
    if type_ == "bool":
        fields["bit"] = draw(st.none() | st.integers(0, 15))
    else:
        fields["scale"] = draw(st.sampled_from([1.0, 0.1, -2.5, 1e-3]))
        fields["offset"] = draw(st.sampled_from([0.0, 5.0, -1.25]))
        fields["sentinels"] = draw(
            st.lists(st.sampled_from([0, 1, 0x7FFF, 0x8000, 0xFFFF]), max_size=2)
        )
    if draw(st.booleans()):
        fields["range"] = sorted(draw(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=2)))
    return fields


@st.composite
def blocks(draw):
    count = draw(st.integers(1, 8))
    tags = [TagConfig.model_validate(draw(tag_fields(i))) for i in range(count)]
    words = draw(st.lists(st.integers(0, 0xFFFF), min_size=BLOCK, max_size=BLOCK))
    return tags, words


def same(a: Sample, b: Sample) -> bool:
    return a == b or (a[:2] == b[:2] and a.value != a.value and b.value != b.value)


@settings(max_examples=400, deadline=None)
@given(blocks())
def test_block_decoder_agrees_with_each_tag(case):
    tags, words = case
    device = DeviceConfig.model_validate({"id": "d", "word_order": Endian.BIG})
    members = []
    for tag in tags:
        try:
            members.append((tag.name, tag.address, compile_tag(tag, device)))
        except CodecError:
            continue  # settings the codec refuses (e.g. a sentinel too wide) never reach a block
    batch: list[Sample] = []
    failures = BlockDecoder(BLOCK, members).decode_into(words, TS, batch)
    assert failures == []
    expected = {}
    for name, start, codec in members:
        decoded = codec.decode(words[start : start + codec.register_count])
        expected[name] = Sample(name, TS, *decoded)
    got = {sample.tag: sample for sample in batch}
    assert got.keys() == expected.keys()
    for name, sample in got.items():
        assert same(sample, expected[name]), (name, sample, expected[name])


def test_malformed_block_decodes_each_tag_on_its_own():
    device = DeviceConfig.model_validate({"id": "d"})
    tags = [
        TagConfig(name="a", source="holding_register", address=0, type=DataType.UINT16),
        TagConfig(name="b", source="holding_register", address=1, type=DataType.UINT16),
    ]
    members = [(tag.name, tag.address, compile_tag(tag, device)) for tag in tags]
    batch: list[Sample] = []
    failures = BlockDecoder(2, members).decode_into([7, 70000], TS, batch)
    assert [name for name, _ in failures] == ["b"]
    assert batch[0] == Sample("a", TS, 7.0)
    assert batch[1].reason is QualityReason.CONFIG_ERROR
