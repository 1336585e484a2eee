"""The codec's part of the whole-station checks: every tag is one the codec can decode.

`compile_tag`'s own rules decide (`refusal` says what it would refuse), so a setting it cannot
honour (a sentinel the type cannot hold, scale on a bool) is reported with its line when the
config loads, not at service start, and the rules are never written twice. Each combination of
settings is compiled once, so asking for every tag of a big station is cheap.
`pstg.station.load_station` passes `check_tag_codecs` to the config loader.
"""

from __future__ import annotations

from collections.abc import Iterator

from pstg.codec.errors import CodecError
from pstg.codec.tag_codec import compile_tag, refusal
from pstg.config.checks import Finding, LineOf
from pstg.config.errors import Loc
from pstg.config.models import DeviceConfig, StationConfig, TagConfig


def check_tag_codecs(config: StationConfig, line_of: LineOf) -> Iterator[Finding]:
    """A finding for each tag `compile_tag` refuses, at the tag, in the codec's words; and for
    each command value (min, max, an enumeration's values) the tag's codec cannot write."""
    for d, device in enumerate(config.devices):
        for t, tag in enumerate(device.tags):
            message = refusal(tag, device)
            if message is not None:
                yield Finding(("devices", d, "tags", t), message)
            elif tag.command is not None:
                yield from _command_values(tag, device, ("devices", d, "tags", t, "command"))


def _command_values(tag: TagConfig, device: DeviceConfig, loc: Loc) -> Iterator[Finding]:
    # The write path encodes through the same codec, so a limit it refuses here could never
    # be written: e.g. max 7000 on a uint16 with scale 0.1 (70000 raw).
    command = tag.command
    assert command is not None
    codec = compile_tag(tag, device)
    current = [0] if codec.read_modify_write else None
    checked: list[tuple[Loc, float]] = [
        ((*loc, key), value)
        for key, value in (("min", command.min), ("max", command.max))
        if value is not None
    ]
    checked += [((*loc, "values", key), key) for key in command.values or {}]
    for where, value in checked:
        try:
            codec.encode(value, current=current)
        except CodecError as exc:
            message = str(exc).removeprefix(f"{tag.name}: ")
            yield Finding(where, f"tag {tag.name!r} cannot be written {value:g}: {message}")
