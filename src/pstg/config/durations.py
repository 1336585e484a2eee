"""The duration type of config fields: `pstg.times`'s grammar (`500ms`, `30s`, `5m`, `1w`, or a
bare number of seconds) as a pydantic field that stores float seconds."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator

from pstg.times import parse_duration

Seconds = Annotated[float, BeforeValidator(parse_duration)]
"""A duration field: accepts `500ms`/`1s`/`5m`/`1w` or seconds and stores float seconds."""
