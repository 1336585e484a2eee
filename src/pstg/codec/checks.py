"""The codec's part of the whole-station checks: every tag is one the codec can decode.

`compile_tag` is asked itself, so a setting it cannot honour (a sentinel the type cannot hold,
scale on a bool) is reported with its line when the config loads, not at service start, and
the rules are never written twice. It compiles each combination of settings once, so asking it
for every tag of a big station is cheap. `pstg.station.load_station` passes `check_tag_codecs`
to the config loader.
"""

from __future__ import annotations

from collections.abc import Iterator

from pstg.codec.errors import CodecError
from pstg.codec.tag_codec import compile_tag
from pstg.config.checks import Finding, LineOf
from pstg.config.models import StationConfig


def check_tag_codecs(config: StationConfig, line_of: LineOf) -> Iterator[Finding]:
    """A finding for each tag `compile_tag` refuses, at the tag, in the codec's words."""
    for d, device in enumerate(config.devices):
        for t, tag in enumerate(device.tags):
            try:
                compile_tag(tag, device)
            except CodecError as exc:
                message = str(exc).removeprefix(f"tag {tag.name}: ")
                yield Finding(("devices", d, "tags", t), message)
