"""The one table of time syntax cases: what `pstg.times` accepts and refuses, shared by the
tests of the grammar itself (tests/test_times.py), the API (tests/api/test_times.py), the command
line (tests/cli/test_times.py) and the config (tests/config/test_durations.py), so the three
can never drift apart again.

An accepted case gives its value (an instant relative to NOW, or seconds); a refused case gives
a piece of the message the user must see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Accepted:
    text: str
    value: datetime | float

    @property
    def relative(self) -> bool:
        """Depends on when it is read (now-15m): only its acceptance can be checked through a
        boundary whose clock the test does not hold."""
        return self.text.strip().startswith("now")


@dataclass(frozen=True)
class Refused:
    text: str
    message: str


INSTANTS: list[Accepted | Refused] = [
    Accepted("2026-03-02T06:00:00Z", NOW),
    Accepted("2026-03-02T06:00Z", NOW),  # seconds may be left out
    Accepted("2026-03-02t06:00:00z", NOW),
    Accepted("2026-03-02 06:00:00Z", NOW),
    Accepted("2026-03-02T08:00:00+02:00", NOW),
    Accepted("2026-03-02T08:00+0200", NOW),
    Accepted("2026-03-02T00:30:00-05:30", NOW),
    Accepted("2026-03-02T06:00:00.25Z", NOW + timedelta(milliseconds=250)),
    Accepted("2026-03-02T06:00:00.000001Z", NOW + timedelta(microseconds=1)),
    # A bound is cut to the microsecond (a sample's time must be exact: see parse_micros).
    Accepted("2026-03-02T06:00:00.123456789Z", NOW + timedelta(microseconds=123456)),
    Accepted("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC)),
    Accepted("now", NOW),
    Accepted(" now-1h ", NOW - timedelta(hours=1)),
    Accepted("now-30s", NOW - timedelta(seconds=30)),
    Accepted("now-15m", NOW - timedelta(minutes=15)),
    Accepted("now-7d", NOW - timedelta(days=7)),
    Accepted("now-2w", NOW - timedelta(weeks=2)),
    Accepted("now+1h", NOW + timedelta(hours=1)),
    Accepted("now-500ms", NOW - timedelta(milliseconds=500)),
    Accepted("now-1.5h", NOW - timedelta(minutes=90)),
    Refused("2026-03-02T06:00:00", "has no UTC offset; add Z (UTC) or +hh:mm"),
    Refused("2026-03-02T06:00", "has no UTC offset"),
    Refused("2026-03-02", "is not an RFC 3339 time with an offset"),
    Refused("yesterday", "is not an RFC 3339 time with an offset"),
    Refused("1772431200", "is not an RFC 3339 time with an offset"),
    Refused("", "is not an RFC 3339 time with an offset"),
    Refused("now-1y", "after now- comes a number and a unit (ms, s, m, h, d or w)"),
    Refused("now-30", "after now- comes a number and a unit"),
    Refused("now--5m", "after now- comes a number and a unit"),
    Refused("now-999999999d", "too far from now"),
    Refused("2026-02-30T00:00:00Z", "day is out of range"),
    Refused("2026-03-02T25:00:00Z", "is not a valid time"),
    Refused("2026-03-02T06:00:00+24:00", "the UTC offset is out of range"),
    Refused("0001-01-01T00:00:00+01:00", "falls outside years 1-9999"),
    Refused("x" * 1000, "..."),
]

DURATIONS: list[Accepted | Refused] = [
    Accepted("500ms", 0.5),
    Accepted("30s", 30.0),
    Accepted("1.5s", 1.5),
    Accepted("5m", 300.0),
    Accepted("2h", 7200.0),
    Accepted("1d", 86400.0),
    Accepted("1w", 604800.0),
    Accepted("30", 30.0),  # a bare number is seconds
    Accepted("0.25", 0.25),
    Accepted(" 5 m ", 300.0),
    Accepted("0s", 0.0),
    Refused("fast", "invalid duration 'fast': expected a duration such as 500ms, 30s, 5m"),
    Refused("5 minutes", "invalid duration"),
    Refused("1y", "invalid duration"),
    Refused("5M", "invalid duration"),
    Refused("1e3", "invalid duration"),
    Refused("-5s", "must not be negative"),
    Refused("", "invalid duration"),
]
