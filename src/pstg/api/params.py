"""Query parameters several routers share: time ranges and the tag a request is about.

Both are FastAPI dependencies that answer 422 (a malformed time, `from` not before `to`) or
404 (an unknown tag) with a message saying what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import HTTPException, Query

from pstg.api.context import ApiContext
from pstg.config.models import TAG_NAME_PATTERN
from pstg.model import DataType, utc_now
from pstg.storage.schema import tags
from pstg.times import INSTANT_SYNTAX, MAX_TEXT, parse_instant

_TAG_NAME = re.compile(TAG_NAME_PATTERN)
MAX_TAG_NAME = 128


@dataclass(frozen=True, slots=True)
class TimeRange:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class OpenTimeRange:
    """Bounds that may be left out (the events journal reads everything by default)."""

    start: datetime | None
    end: datetime | None


_SPACED_OFFSET = re.compile(r"(.+[Tt ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)", re.ASCII)
"""A time whose `+hh:mm` offset lost its plus sign: form-decoding a URL turns `+` into a space."""


def parse_time_param(name: str, text: str, now: datetime) -> datetime:
    """A time query parameter (`pstg.times`'s grammar), or 422 naming the parameter. A `+`
    that reached us as a space (an unencoded `+02:00` in a URL) is read as the `+` it was."""
    spaced = _SPACED_OFFSET.fullmatch(text.strip()) if len(text) <= MAX_TEXT else None
    if spaced is not None:
        text = f"{spaced[1]}+{spaced[2]}"
    try:
        return parse_instant(text, now=now)
    except ValueError as exc:
        raise HTTPException(422, f"query parameter {name!r}: {exc}") from None


def _ordered(start: datetime, end: datetime) -> None:
    if start >= end:
        raise HTTPException(422, "from must be before to")


_FROM_DOC = f"Start of the range (inclusive): {INSTANT_SYNTAX}."
_TO_DOC = f"End of the range (exclusive): {INSTANT_SYNTAX}."


async def time_range(
    from_: Annotated[str, Query(alias="from", description=_FROM_DOC)] = "now-1h",
    to: Annotated[str, Query(description=_TO_DOC)] = "now",
) -> TimeRange:
    """`from` and `to` (default: the last hour), `from` before `to`. (`async` for FastAPI to
    call it on the loop, not in a worker thread, as every light dependency here.)"""
    now = utc_now()
    start, end = parse_time_param("from", from_, now), parse_time_param("to", to, now)
    _ordered(start, end)
    return TimeRange(start, end)


async def open_time_range(
    from_: Annotated[
        str | None, Query(alias="from", description=_FROM_DOC + " Default: no bound.")
    ] = None,
    to: Annotated[str | None, Query(description=_TO_DOC + " Default: no bound.")] = None,
) -> OpenTimeRange:
    now = utc_now()
    start = None if from_ is None else parse_time_param("from", from_, now)
    end = None if to is None else parse_time_param("to", to, now)
    if start is not None and end is not None:
        _ordered(start, end)
    return OpenTimeRange(start, end)


def unknown_tag(name: str) -> HTTPException:
    shown = name if len(name) <= 80 else name[:80] + "..."
    return HTTPException(404, f"unknown tag {shown!r}")


def tag_id_of(context: ApiContext, name: str) -> int:
    """The id of the station's tag `name`: an active one from the context, else a retired
    one from the database (its history stays readable); 404 when there is none."""
    tag_id = context.tag_ids.get(name)
    if tag_id is not None:
        return tag_id
    # Only names the config could ever have held reach the database (no NUL bytes and the
    # like, which PostgreSQL refuses).
    if len(name) > MAX_TAG_NAME or not _TAG_NAME.fullmatch(name):
        raise unknown_tag(name)
    with context.engine.connect() as connection:
        found = connection.execute(
            sa.select(tags.c.id).where(tags.c.station_id == context.station_id, tags.c.name == name)
        ).scalar_one_or_none()
    if found is None:
        raise unknown_tag(name)
    return int(found)


def require_numeric(context: ApiContext, name: str, what: str) -> None:
    """422 when an active tag holds text (trends and summaries need numbers)."""
    for device in context.config.devices:
        for tag in device.tags:
            if tag.name == name and tag.data_type is DataType.STRING:
                raise HTTPException(422, f"tag {name!r} holds text; {what} needs a numeric tag")


TagName = Annotated[
    str, Query(min_length=1, description="The tag's name, as in the station config.")
]
