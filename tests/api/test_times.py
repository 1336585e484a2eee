"""Times in query parameters: RFC 3339 with an offset or relative to now; out with Z."""

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pstg.api.times import format_time, parse_time

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("now-15m", NOW - timedelta(minutes=15)),
        ("now-1h", NOW - timedelta(hours=1)),
        ("now-7d", NOW - timedelta(days=7)),
        ("now-2w", NOW - timedelta(weeks=2)),
        ("now-30s", NOW - timedelta(seconds=30)),
        ("now+5m", NOW + timedelta(minutes=5)),
        (" now-1h ", NOW - timedelta(hours=1)),
        ("2024-02-01T10:00:00Z", datetime(2024, 2, 1, 10, tzinfo=UTC)),
        ("2024-02-01t10:00:00z", datetime(2024, 2, 1, 10, tzinfo=UTC)),
        ("2024-02-01T12:00:00+02:00", datetime(2024, 2, 1, 10, tzinfo=UTC)),
        ("2024-02-01T04:30:00-05:30", datetime(2024, 2, 1, 10, tzinfo=UTC)),
        ("2024-02-01T12:00+0200", datetime(2024, 2, 1, 10, tzinfo=UTC)),
        ("2024-02-01 10:00:00Z", datetime(2024, 2, 1, 10, tzinfo=UTC)),
        # an unencoded "+" arrives as a space
        ("2024-02-01T12:00:00 02:00", datetime(2024, 2, 1, 10, tzinfo=UTC)),
        ("2024-02-01T10:00:00.123456789Z", datetime(2024, 2, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2024-02-01T10:00:00.5Z", datetime(2024, 2, 1, 10, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_accepted_times(text: str, expected: datetime) -> None:
    parsed = parse_time(text, now=NOW)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-02-01T10:00:00", "no UTC offset; add Z"),
        ("2024-02-01 10:00", "no UTC offset"),
        ("2024-02-01", "is not an RFC 3339 time"),
        ("yesterday", "is not an RFC 3339 time"),
        ("now-1y", "is not an RFC 3339 time"),
        ("now-1.5h", "is not an RFC 3339 time"),
        ("", "is not an RFC 3339 time"),
        ("1709294400", "is not an RFC 3339 time"),
        ("2024-02-30T00:00:00Z", "day is out of range"),
        ("2024-02-01T25:00:00Z", "is not a valid time"),
        ("0001-01-01T00:00:00+01:00", "is not a valid time"),
        ("9999-12-31T23:59:59-01:00", "is not a valid time"),
        ("now-999999999d", "too far from now"),
        ("x" * 1000, "..."),
    ],
)
def test_refused_times(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        parse_time(text, now=NOW)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    ("ts", "text"),
    [
        (datetime(2024, 3, 1, tzinfo=UTC), "2024-03-01T00:00:00Z"),
        (datetime(2024, 3, 1, 0, 0, 0, 250, tzinfo=UTC), "2024-03-01T00:00:00.000250Z"),
        (datetime(2024, 3, 1, 2, tzinfo=timezone(timedelta(hours=2))), "2024-03-01T00:00:00Z"),
    ],
)
def test_format_time(ts: datetime, text: str) -> None:
    assert format_time(ts) == text
    assert parse_time(text, now=NOW) == ts
