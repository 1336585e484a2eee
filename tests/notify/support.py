"""Shared pieces of the notification tests: a clock that moves only when told, alarm steps,
and a notifications section to start from."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pstg.config.notifications import NotificationsConfig
from pstg.notify.message import AlarmInfo

T0 = datetime(2025, 3, 4, 3, 0, tzinfo=UTC)  # a Tuesday, 3 a.m. UTC


class Clock:
    """Now is what the test says it is."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def section(**overrides: Any) -> NotificationsConfig:
    data: dict[str, Any] = {
        "email": {"host": "127.0.0.1", "port": 2525, "security": "none",
                  "sender": "PSTG <pstg@localhost>"},
        "people": [
            {"name": "alice", "email": "alice@localhost"},
            {"name": "bob", "email": "bob@localhost"},
            {"name": "carol", "email": "carol@localhost"},
        ],
        "routes": [
            {"name": "urgent", "priorities": ["critical", "high"],
             "levels": [{"to": ["alice"]}, {"after": "15m", "to": ["bob"]}]},
        ],
    }  # fmt: skip
    data.update(overrides)
    return NotificationsConfig.model_validate(data)


def step(
    alarm_id: str,
    previous: str,
    state: str,
    reason: str,
    *,
    ts: datetime = T0,
    priority: str = "high",
    tag: str | None = "wet_well.level",
    value: float | None = 3.1,
    user: str | None = None,
) -> AlarmInfo:
    return AlarmInfo(
        alarm_id=alarm_id, station_id="ps-01", station_name="Pump Station 1",
        priority=priority, state=state, previous=previous, reason=reason, ts=ts,
        message="Wet well level high", description="wet_well.level high >= 3", tag=tag,
        value=value, unit="m", user=user,
    )  # fmt: skip


def raised(alarm_id: str = "wet_well.level.high", **kw: Any) -> AlarmInfo:
    return step(alarm_id, "normal", "unacknowledged", "activated", **kw)


async def eventually(check: Callable[[], bool], seconds: float = 20.0) -> None:
    """Wait (in the event loop) until `check()`; fail after `seconds`, a generous bound."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
