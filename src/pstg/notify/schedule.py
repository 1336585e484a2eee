"""When the daily self-test runs: `at` o'clock on its days, in its time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pstg.config.notifications import WEEKDAYS, SelfTestConfig


def next_self_test(config: SelfTestConfig, after: datetime) -> datetime:
    """The first scheduled run strictly after `after` (aware), as an aware UTC-comparable
    datetime. A time that a daylight-saving change skips runs at the shifted wall time."""
    zone = ZoneInfo(config.time_zone)
    local = after.astimezone(zone)
    for days_ahead in range(8):
        day = local.date() + timedelta(days=days_ahead)
        if WEEKDAYS[day.weekday()] not in config.days:
            continue
        run = datetime.combine(day, config.at, tzinfo=zone)
        if run > local:
            return run
    raise AssertionError("a week always holds one of the days")  # days has min_length 1
