"""Times in query parameters and in responses.

In: RFC 3339 with an offset (`2024-03-01T12:00:00Z`, `2024-03-01T14:00:00+02:00`) or a time
relative to now (`now`, `now-15m`, `now-1h`, `now-7d`; units s, m, h, d, w). A time without
an offset is refused rather than guessed: a station's local time and UTC differ by hours.
A `+` that reached us as a space (an unencoded `+02:00` in a URL) is read as the `+` it was.

Out: RFC 3339 in UTC with `Z` (pydantic writes aware UTC datetimes that way; `format_time`
does the same for the odd string built by hand).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_RELATIVE = re.compile(r"now(?:(?P<sign>[+-])(?P<amount>\d{1,9})(?P<unit>[smhdw]))?")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_SPACED_OFFSET = re.compile(r"(.+[Tt ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)")
"""A time whose `+hh:mm` offset lost its plus sign (form-decoding turns `+` into a space)."""
_RFC3339 = re.compile(
    r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?P<offset>[Zz]|[+-]\d\d:?\d\d)?"
)

TIME_SYNTAX = (
    "an RFC 3339 time with an offset (2024-03-01T12:00:00Z) or now, now-15m, now-1h, now-7d"
)


def parse_time(text: str, *, now: datetime) -> datetime:
    """`text` as an aware UTC datetime; ValueError saying what is wrong otherwise."""
    text = text.strip()
    relative = _RELATIVE.fullmatch(text)
    if relative is not None:
        if relative["unit"] is None:
            return now
        try:
            delta = timedelta(**{_UNITS[relative["unit"]]: int(relative["amount"])})
            return now - delta if relative["sign"] == "-" else now + delta
        except OverflowError:
            raise ValueError(f"{text!r} is too far from now") from None
    spaced = _SPACED_OFFSET.fullmatch(text)
    if spaced is not None:
        text = f"{spaced[1]}+{spaced[2]}"
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"{_shorten(text)!r} is not {TIME_SYNTAX}")
    if match["offset"] is None:
        raise ValueError(f"{text!r} has no UTC offset; add Z (UTC) or +hh:mm, e.g. {text}Z")
    try:
        parsed = datetime.fromisoformat(_nine_to_six_digits(text.upper()))
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{text!r} is not a valid time: {exc}") from None


def format_time(ts: datetime) -> str:
    """RFC 3339 in UTC with `Z`, microseconds only when there are any."""
    text = ts.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def _nine_to_six_digits(text: str) -> str:
    """Python reads at most microseconds; RFC 3339 allows any number of fraction digits."""
    return re.sub(r"(\.\d{6})\d+", r"\1", text)


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
