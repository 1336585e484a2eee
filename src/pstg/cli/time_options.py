"""Options that take times or durations, parsed with `pstg.times`'s one grammar (docs/times.md):
`--duration 30s`, `--from now-2w`, `--start 2026-03-02T06:00Z`."""

from __future__ import annotations

from datetime import datetime

import typer

from pstg.cli.app import fail
from pstg.cli.errors import exit_code
from pstg.errors import Invalid
from pstg.model import utc_now
from pstg.times import InvalidDuration, InvalidTime, parse_duration, parse_instant

DURATION_METAVAR = "DURATION"
TIME_METAVAR = "TIME"


def duration_value(value: str | float) -> float:
    """An option's duration in seconds (500ms, 30s, 5m, 2h, 1d, 1w, or seconds)."""
    try:
        return parse_duration(value)
    except InvalidDuration as exc:
        raise typer.BadParameter(str(exc)) from None


def instant_value(value: str | datetime) -> datetime:
    """An option's instant: RFC 3339 with an offset, or now / now-15m / now+1h."""
    if isinstance(value, datetime):  # a default given as a datetime
        return value
    try:
        return parse_instant(value, now=utc_now())
    except InvalidTime as exc:
        raise typer.BadParameter(str(exc)) from None


def time_bounds(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    """`--from` and `--to`, each optional, read against one `now`; a one-line failure when one
    is malformed or the range is empty."""
    now = utc_now()
    bounds: list[datetime | None] = []
    for option, text in (("--from", start), ("--to", end)):
        try:
            bounds.append(None if text is None else parse_instant(text, now=now))
        except InvalidTime as exc:
            fail(f"{option}: {exc}", exit_code(exc))
    low, high = bounds
    if low is not None and high is not None and low >= high:
        fail(
            f"--from {start} is not before --to {end}: the range is empty (--to is exclusive)",
            exit_code(Invalid),
        )
    return low, high
