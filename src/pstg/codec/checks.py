"""The codec's part of the whole-station checks: every tag is one the codec can decode.

`compile_tag`'s own rules decide (`refusal` says what it would refuse), so a setting it cannot
honour (a sentinel the type cannot hold, scale on a bool) is reported with its line when the
config loads, not at service start, and the rules are never written twice. Each combination of
settings is compiled once, so asking for every tag of a big station is cheap.
`pstg.station.load_station` passes `check_tag_codecs` to the config loader.
"""

from __future__ import annotations

from collections.abc import Iterator

from pstg.codec.tag_codec import refusal
from pstg.config.checks import Finding, LineOf
from pstg.config.models import StationConfig


def check_tag_codecs(config: StationConfig, line_of: LineOf) -> Iterator[Finding]:
    """A finding for each tag `compile_tag` refuses, at the tag, in the codec's words."""
    for d, device in enumerate(config.devices):
        for t, tag in enumerate(device.tags):
            message = refusal(tag, device)
            if message is not None:
                yield Finding(("devices", d, "tags", t), message)
