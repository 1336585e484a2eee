"""BlockDecoder must give exactly what each tag's own decoder gives, for any tags and words."""

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from pstg.codec import BlockDecoder, CodecError, Member, compile_tag
from pstg.config.models import DeviceConfig, TagConfig
from pstg.model import DataType, Endian, QualityReason, Sample, utc_now
from pstg.times import to_micros

TS = datetime(2026, 11, 27, tzinfo=UTC)
TS_US = to_micros(TS)
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
    for index, tag in enumerate(tags):
        try:
            members.append(Member(tag.name, index, tag.address, compile_tag(tag, device)))
        except CodecError:
            continue  # settings the codec refuses (e.g. a sentinel too wide) never reach a block
    batch, failures = BlockDecoder(BLOCK, members).decode(words, TS_US)
    assert failures == []
    assert len(batch) == len(members)
    expected = {}
    for member in members:
        decoded = member.codec.decode(words[member.start : member.stop])
        expected[member.name] = Sample(member.name, TS, *decoded)
    got = {sample.tag: sample for sample in batch.samples([tag.name for tag in tags])}
    assert got.keys() == expected.keys()
    for name, sample in got.items():
        assert same(sample, expected[name]), (name, sample, expected[name])


def test_malformed_block_decodes_each_tag_on_its_own():
    device = DeviceConfig.model_validate({"id": "d"})
    tags = [
        TagConfig(name="a", source="holding_register", address=0, type=DataType.UINT16),
        TagConfig(name="b", source="holding_register", address=1, type=DataType.UINT16),
    ]
    members = [
        Member(tag.name, index, tag.address, compile_tag(tag, device))
        for index, tag in enumerate(tags)
    ]
    batch, failures = BlockDecoder(2, members).decode([7, 70000], TS_US)
    assert [name for name, _ in failures] == ["b"]
    samples = list(batch.samples(["a", "b"]))
    assert samples[0] == Sample("a", TS, 7.0)
    assert samples[1].reason is QualityReason.CONFIG_ERROR
    assert samples[1].value is None


def test_failed_read_marks_every_tag_bad_with_the_reason():
    device = DeviceConfig.model_validate({"id": "d"})
    tags = [
        TagConfig(name="n", source="holding_register", address=0, type=DataType.UINT16),
        TagConfig(name="s", source="holding_register", address=1, type="string", length=2),
    ]
    members = [
        Member(tag.name, index, tag.address, compile_tag(tag, device))
        for index, tag in enumerate(tags)
    ]
    batch = BlockDecoder(3, members).bad(TS_US, QualityReason.TIMEOUT)
    samples = {sample.tag: sample for sample in batch.samples(["n", "s"])}
    assert samples == {
        "n": Sample.bad("n", TS, QualityReason.TIMEOUT),
        "s": Sample.bad("s", TS, QualityReason.TIMEOUT),
    }


def test_rows_keep_their_tag_indexes_whatever_the_layout():
    """Rows come out grouped by byte layout; each still carries its own tag's index."""
    device = DeviceConfig.model_validate({"id": "d"})
    tags = [
        TagConfig(name="f", source="holding_register", address=0, type="float32",
                  word_order="little"),
        TagConfig(name="u", source="holding_register", address=2, type="uint16", scale=0.5),
        TagConfig(name="b", source="holding_register", address=3, type="bool", bit=3),
        TagConfig(name="s", source="holding_register", address=4, type="string", length=1),
    ]  # fmt: skip
    members = [
        Member(tag.name, 10 + index, tag.address, compile_tag(tag, device))
        for index, tag in enumerate(tags)
    ]
    words = [0x0000, 0x4148, 200, 0b1000, 0x4142]
    batch, _ = BlockDecoder(5, members).decode(words, to_micros(utc_now()))
    names = [f"x{i}" for i in range(10)] + ["f", "u", "b", "s"]
    got = {sample.tag: sample.value for sample in batch.samples(names)}
    assert got == {"f": 12.5, "u": 100.0, "b": 1.0, "s": "AB"}
