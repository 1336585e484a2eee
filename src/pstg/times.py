"""Time in PSTG: one grammar for instants, relative times and durations, and the microsecond
form batches and the database use. The API, the command line and the config all parse here,
so `now-2w`, `2026-03-02T06:00Z` and `30s` mean the same wherever they are typed; docs/times.md
is the user's description of the same rules.

    duration   a number and a unit: 500ms, 30s, 1.5s, 5m, 2h, 1d, 1w (ms s m h d w); a bare
               number is seconds (30, 0.5). Never negative.
    instant    RFC 3339 with an offset: 2026-03-02T06:00:00Z, 2026-03-02T08:00+02:00,
               2026-03-02 06:00:00.250Z (T or a space; seconds and fraction optional; Z or
               +hh:mm, +hhmm). A time without an offset is refused everywhere, never guessed:
               a station's local time and UTC differ by hours.
             | now, or now plus or minus a duration with its unit: now-15m, now+1h, now-2w.

Fractions finer than a microsecond: a time bound is cut to the microsecond (`parse_instant`);
a sample's time must be exact (`parse_micros`), since cutting it could merge two samples.

Instants are timezone-aware UTC datetimes, or integer microseconds since the Unix epoch (UTC):
exact, compact, and as fast to compare and index as any number. Out, they are RFC 3339 in UTC
with `Z` (`format_instant`; `format_micros` always writes six fraction digits).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from pstg.errors import Invalid

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECONDS = 1_000_000

UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
"""The units of a duration, in seconds."""

DURATION_SYNTAX = "a duration such as 500ms, 30s, 5m, 2h, 1d or 1w (a bare number is seconds)"
INSTANT_SYNTAX = (
    "an RFC 3339 time with an offset (2026-03-02T06:00:00Z, 2026-03-02T08:00+02:00) "
    "or a time relative to now (now, now-15m, now+1h)"
)
MAX_TEXT = 200
"""Longer texts are refused before any pattern looks at them (they come from anyone)."""

_DURATION = re.compile(r"\s*([+-]?)(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*", re.ASCII)
_RELATIVE = re.compile(r"now(?:([+-])(.*))?", re.ASCII | re.DOTALL)
_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?"
    r"(?:([Zz])|([+-])(\d\d):?(\d\d))?",
    re.ASCII,
)
_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()
_NAIVE_EPOCH = datetime(1970, 1, 1)
_MIN_MICROS = -62_135_596_800 * MICROSECONDS  # 0001-01-01T00:00:00Z
_MAX_MICROS = 253_402_300_800 * MICROSECONDS - 1  # 9999-12-31T23:59:59.999999Z


class InvalidTime(Invalid):
    """A text that is not an instant in the grammar above; the message says why."""


class InvalidDuration(Invalid):
    """A value that is not a duration in the grammar above; the message says why."""


# --- microseconds ----------------------------------------------------------------------------


def to_micros(ts: datetime) -> int:
    """A timezone-aware datetime as integer microseconds since the epoch (exact)."""
    delta = ts - EPOCH
    return (delta.days * 86_400 + delta.seconds) * MICROSECONDS + delta.microseconds


def from_micros(micros: int) -> datetime:
    """Integer microseconds since the epoch as a timezone-aware UTC datetime."""
    return EPOCH + timedelta(microseconds=micros)


# --- durations -------------------------------------------------------------------------------


def parse_duration(value: object) -> float:
    """Seconds for a duration: text (`500ms`, `5m`, `30`) or a number of seconds."""
    if isinstance(value, bool):
        raise InvalidDuration(f"expected {DURATION_SYNTAX}, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds):
            raise InvalidDuration(f"a duration must be a finite number, got {value!r}")
        if seconds < 0:
            raise InvalidDuration(f"a duration must not be negative, got {value!r}")
        return seconds
    if not isinstance(value, str):
        raise InvalidDuration(f"expected {DURATION_SYNTAX}, got {value!r}")
    match = _DURATION.fullmatch(value) if len(value) <= MAX_TEXT else None
    if match is None:
        raise InvalidDuration(f"invalid duration {_shorten(value)!r}: expected {DURATION_SYNTAX}")
    sign, number, unit = match.groups()
    if sign == "-":
        raise InvalidDuration(f"a duration must not be negative, got {value!r}")
    return float(number) * UNIT_SECONDS[unit or "s"]


def format_duration(seconds: float) -> str:
    """A duration in the largest unit that divides it, up to days: `90s`, `5m`, `2h`, `500ms`."""
    if seconds and seconds < 1:
        return f"{seconds * 1000:g}ms"
    for unit in ("d", "h", "m"):
        size = UNIT_SECONDS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


# --- instants --------------------------------------------------------------------------------


def parse_instant(text: str, *, now: datetime) -> datetime:
    """An instant as an aware UTC datetime: RFC 3339 with an offset (cut to the microsecond)
    or a time relative to `now`. InvalidTime saying what is wrong otherwise."""
    text = text.strip()
    relative = _RELATIVE.fullmatch(text) if len(text) <= MAX_TEXT else None
    if relative is not None:
        sign, amount = relative.groups()
        return now if sign is None else _shift(text, now, sign, amount)
    return from_micros(_rfc3339_micros(text, exact=False))


def parse_micros(text: str) -> int:
    """An RFC 3339 time with an offset as exact microseconds since the epoch: a sample's time,
    so neither `now` nor digits beyond the microsecond (other than zeros) are accepted."""
    return _rfc3339_micros(text.strip(), exact=True)


def format_instant(ts: datetime) -> str:
    """RFC 3339 in UTC with `Z`, microseconds only when there are any."""
    text = ts.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def format_micros(micros: int) -> str:
    """Microseconds since the epoch as RFC 3339 in UTC, always with six fraction digits."""
    return (_NAIVE_EPOCH + timedelta(microseconds=micros)).isoformat(timespec="microseconds") + "Z"


def _shift(text: str, now: datetime, sign: str, amount: str) -> datetime:
    match = _DURATION.fullmatch(amount)
    if match is None or match[1] or match[3] is None:
        raise InvalidTime(
            f"{text!r} is not a time relative to now: after now{sign} comes a number and a "
            "unit (ms, s, m, h, d or w), e.g. now-15m, now+1h"
        )
    try:
        delta = timedelta(seconds=float(match[2]) * UNIT_SECONDS[match[3]])
        return now - delta if sign == "-" else now + delta
    except OverflowError:
        raise InvalidTime(f"{text!r} is too far from now") from None


def _rfc3339_micros(text: str, *, exact: bool) -> int:
    match = _RFC3339.fullmatch(text) if len(text) <= MAX_TEXT else None
    if match is None:
        raise InvalidTime(f"{_shorten(text)!r} is not {INSTANT_SYNTAX}")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    if zulu is None and sign is None:
        raise InvalidTime(f"{text!r} has no UTC offset; add Z (UTC) or +hh:mm, e.g. {text}Z")
    micros = 0
    if fraction is not None:
        if exact and fraction[6:].strip("0"):
            raise InvalidTime(f"{text!r} is finer than a microsecond, the resolution PSTG keeps")
        micros = int(fraction[:6].ljust(6, "0"))
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError as exc:
        raise InvalidTime(f"{text!r} is not a valid time: {exc}") from None
    offset = 0
    if sign is not None:
        if int(off_h) > 23 or int(off_m) > 59:
            raise InvalidTime(f"{text!r} is not a valid time: the UTC offset is out of range")
        offset = (int(off_h) * 3600 + int(off_m) * 60) * (-1 if sign == "-" else 1)
    seconds = (moment.toordinal() - _EPOCH_ORDINAL) * 86400 + (
        moment.hour * 3600 + moment.minute * 60 + moment.second
    )
    result = (seconds - offset) * MICROSECONDS + micros
    if not _MIN_MICROS <= result <= _MAX_MICROS:
        raise InvalidTime(f"{text!r} is not a valid time: in UTC it falls outside years 1-9999")
    return result


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
