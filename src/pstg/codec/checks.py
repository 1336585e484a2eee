"""The codec's part of the whole-station checks: every tag is one the codec can decode.

`compile_tag` is asked itself, so a setting it cannot honour (a sentinel the type cannot hold,
scale on a bool) is reported with its line when the config loads, not at service start, and
the rules are never written twice. `pstg.station.load_station` passes `check_tag_codecs` to
the config loader.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from operator import itemgetter

from pstg.codec.errors import CodecError
from pstg.codec.tag_codec import compile_tag
from pstg.config.checks import Finding, LineOf
from pstg.config.models import DeviceConfig, StationConfig, TagConfig

NOT_CODEC_SETTINGS = frozenset({"name", "address", "unit", "description", "deadband", "writable"})
"""TagConfig fields compile_tag never reads; every other field (a new one too) is a setting."""
_SETTINGS = tuple(field for field in TagConfig.model_fields if field not in NOT_CODEC_SETTINGS)


def check_tag_codecs(config: StationConfig, line_of: LineOf) -> Iterator[Finding]:
    """A finding for each tag `compile_tag` refuses, at the tag, in the codec's words.

    Tags with the same codec settings get the same answer, so each combination is compiled
    once: a big station repeats a few kinds of tag many times, and compiling is the costly part
    of loading it (about half, measured at 20,000 tags).
    """
    answers: dict[Hashable, str | None] = {}
    # One C call per tag for the key (the settings, sentinels as a tuple): a generator over the
    # fields cost as much as the compiling it saves.
    others = itemgetter(*(field for field in _SETTINGS if field != "sentinels"))
    for d, device in enumerate(config.devices):
        orders = (device.word_order, device.byte_order)
        for t, tag in enumerate(device.tags):
            key = (orders, tuple(tag.sentinels), others(tag.__dict__))
            if key not in answers:
                answers[key] = _refusal(tag, device)
            message = answers[key]
            if message is not None:
                yield Finding(("devices", d, "tags", t), message)


def _refusal(tag: TagConfig, device: DeviceConfig) -> str | None:
    """What compile_tag says is wrong with `tag` (without its name), or None."""
    try:
        compile_tag(tag, device)
    except CodecError as exc:
        return str(exc).removeprefix(f"tag {tag.name}: ")
    return None
