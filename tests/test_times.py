"""pstg.times: the one grammar for instants, relative times and durations (the shared table in
tests/support/time_cases.py), exact microseconds for samples, and the output forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pstg.errors import Invalid
from pstg.times import (
    InvalidDuration,
    InvalidTime,
    format_duration,
    format_instant,
    format_micros,
    from_micros,
    parse_duration,
    parse_instant,
    parse_micros,
    to_micros,
)
from tests.support.time_cases import DURATIONS, INSTANTS, NOW, Accepted, Refused

T0 = 1_780_000_000_000_000  # 2026-05-28T20:26:40Z, microseconds


@pytest.mark.parametrize("case", INSTANTS, ids=lambda case: repr(case.text[:40]))
def test_instants(case: Accepted | Refused) -> None:
    if isinstance(case, Accepted):
        parsed = parse_instant(case.text, now=NOW)
        assert parsed == case.value
        assert parsed.utcoffset() == timedelta(0)
    else:
        with pytest.raises(InvalidTime, match=re.escape(case.message)) as caught:
            parse_instant(case.text, now=NOW)
        assert len(caught.value.message) < 300
        assert isinstance(caught.value, Invalid)  # a domain error: 422 in the API, exit 2


@pytest.mark.parametrize("case", DURATIONS, ids=lambda case: repr(case.text))
def test_durations(case: Accepted | Refused) -> None:
    if isinstance(case, Accepted):
        assert parse_duration(case.text) == case.value
    else:
        with pytest.raises(InvalidDuration, match=re.escape(case.message)):
            parse_duration(case.text)


@pytest.mark.parametrize(
    ("value", "message"),
    [(True, "expected a duration"), (-1, "must not be negative"), (float("nan"), "finite")],
)
def test_durations_as_numbers(value: object, message: str) -> None:
    assert parse_duration(30) == 30.0
    assert parse_duration(0.5) == 0.5
    with pytest.raises(InvalidDuration, match=message):
        parse_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.5, "500ms"), (30, "30s"), (90, "90s"), (300, "5m"), (7200, "2h"), (86400, "1d")],
)
def test_format_duration_reads_back(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("2026-05-28T20:26:40Z", T0),
        ("2026-05-28T20:26:40.250000Z", T0 + 250_000),
        ("2026-05-28t22:26:40.25+02:00", T0 + 250_000),
        ("2026-05-28 15:56:40.000001-04:30", T0 + 1),
        ("2026-05-28T20:26:40.0000010z", T0 + 1),  # zeros past the microsecond change nothing
        ("2026-05-28T20:26Z", T0 - 40_000_000),
        ("1969-12-31T23:59:59.999999Z", -1),
    ],
)
def test_sample_times_are_exact_microseconds(text: str, micros: int) -> None:
    assert parse_micros(text) == micros
    assert to_micros(parse_instant(text, now=NOW)) == micros


def test_sample_times_refuse_what_would_change_them() -> None:
    with pytest.raises(InvalidTime, match="finer than a microsecond"):
        parse_micros("2026-05-28T20:26:40.0000001Z")
    with pytest.raises(InvalidTime, match="is not an RFC 3339 time"):
        parse_micros("now")
    with pytest.raises(InvalidTime, match="no UTC offset"):
        parse_micros("2026-05-28T20:26:40")


@pytest.mark.parametrize(
    ("ts", "text"),
    [
        (datetime(2024, 3, 1, tzinfo=UTC), "2024-03-01T00:00:00Z"),
        (datetime(2024, 3, 1, 0, 0, 0, 250, tzinfo=UTC), "2024-03-01T00:00:00.000250Z"),
        (datetime(2024, 3, 1, 2, tzinfo=timezone(timedelta(hours=2))), "2024-03-01T00:00:00Z"),
    ],
)
def test_format_instant_reads_back(ts: datetime, text: str) -> None:
    assert format_instant(ts) == text
    assert parse_instant(text, now=NOW) == ts


def test_format_micros_always_has_six_digits() -> None:
    assert format_micros(T0 + 250_000) == "2026-05-28T20:26:40.250000Z"
    assert format_micros(-1) == "1969-12-31T23:59:59.999999Z"
    assert parse_micros(format_micros(T0 + 1)) == T0 + 1
    assert from_micros(T0) == datetime(2026, 5, 28, 20, 26, 40, tzinfo=UTC)
