"""What the journal says was told, for resuming escalations after a restart (both backends)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from pstg.notify import journal
from pstg.notify.journal import Attempt, Result
from pstg.notify.message import Told
from pstg.storage.catalog import sync_catalog
from tests.notify.station import station_config
from tests.notify.support import T0

HIGH = "wet_well.level.high"


def attempt(
    minutes: float, recipient: str, kind: str, level: int | None, result: Result,
    *, channel: str = "email", alarm_id: str = HIGH, route: str | None = "urgent",
) -> Attempt:  # fmt: skip
    return Attempt(
        ts=T0 + timedelta(minutes=minutes), notification_id=f"n{minutes}{recipient}",
        channel=channel, recipient=recipient, kind=kind, alarm_id=alarm_id, alarms=[alarm_id],
        route=route, level=level, attempt=1, result=result, error=None, detail="",
    )  # fmt: skip


def test_only_notices_whose_delivery_ended_count_as_told(engine: Engine) -> None:
    station = sync_catalog(engine, station_config({})).station_id
    journal.write(
        engine,
        station,
        [
            attempt(-30, "alice", "raised", 1, Result.DELIVERED),  # an earlier episode
            attempt(0, "alice", "raised", 1, Result.DELIVERED),
            attempt(0, "alice", "raised", 1, Result.DELIVERED, channel="sms"),  # another sink
            attempt(10, "alice", "reminder", 1, Result.RETRYING),  # in flight at the stop
            attempt(15, "bob", "escalated", 2, Result.FAILED),  # tried to the end: told
            attempt(16, "carol", "escalated", 3, Result.NOT_SENT),  # the gateway stopped
            attempt(16, "dave", "escalated", 3, Result.DROPPED),  # a full queue
            attempt(17, "alice", "acknowledged", 2, Result.DELIVERED),  # not an escalation
            attempt(18, "erin", "digest", None, Result.DELIVERED, route=None),
            attempt(19, "alice", "raised", 1, Result.DELIVERED, alarm_id="other.alarm"),
        ],
    )
    told = journal.told_since(engine, station, {HIGH: T0}, ["email"])
    assert told == [
        Told(HIGH, "urgent", 0, "alice", "raised", T0),
        Told(HIGH, "urgent", 1, "bob", "escalated", T0 + timedelta(minutes=15)),
    ]
    assert journal.told_since(engine, station, {}, ["email"]) == []
    assert journal.told_since(engine, station, {HIGH: T0}, []) == []
    newest = journal.told_since(engine, station, {HIGH: T0}, ["email"], limit=1)
    assert [entry.recipient for entry in newest] == ["bob"]
