"""The notification journal in the database: every attempt written, and read back with
filters for the API. Blocking: call these in a worker thread."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.notify.message import Told
from pstg.notify.tables import notification_attempts
from pstg.times import from_micros, to_micros

MAX_LIST = 10_000


class Result(StrEnum):
    DELIVERED = "delivered"
    RETRYING = "retrying"
    """This try failed; another follows."""
    FAILED = "failed"
    """The last try failed, or the failure was permanent: the notification is lost."""
    DROPPED = "dropped"
    """Never tried: the channel's queue was full."""
    NOT_SENT = "not_sent"
    """Never tried: the gateway stopped first."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One row of the journal."""

    ts: datetime
    notification_id: str
    channel: str
    recipient: str
    kind: str
    alarm_id: str | None
    alarms: list[str]
    route: str | None
    level: int | None
    attempt: int
    result: Result
    error: str | None
    detail: str


def write(engine: Engine, station_id: int, attempts: Sequence[Attempt]) -> None:
    rows = [
        asdict(attempt)
        | {"ts": to_micros(attempt.ts), "station_id": station_id, "result": attempt.result.value}
        for attempt in attempts
    ]
    if rows:
        with engine.begin() as connection:
            connection.execute(sa.insert(notification_attempts), rows)


def read(
    engine: Engine,
    station_id: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    channel: str | None = None,
    recipient: str | None = None,
    alarm_id: str | None = None,
    kind: str | None = None,
    result: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Rows newest first, at most `limit` (capped at MAX_LIST), times as datetimes."""
    table = notification_attempts
    query = (
        sa.select(table)
        .where(table.c.station_id == station_id)
        .order_by(table.c.ts.desc(), table.c.id.desc())
        .limit(max(1, min(limit, MAX_LIST)))
    )
    if start is not None:
        query = query.where(table.c.ts >= to_micros(start))
    if end is not None:
        query = query.where(table.c.ts < to_micros(end))
    for column, value in (
        (table.c.channel, channel),
        (table.c.recipient, recipient),
        (table.c.alarm_id, alarm_id),
        (table.c.kind, kind),
        (table.c.result, result),
    ):
        if value is not None:
            query = query.where(column == value)
    with engine.connect() as connection:
        return [
            dict(row._mapping) | {"ts": from_micros(row.ts), "alarms": row.alarms or []}
            for row in connection.execute(query)
        ]


_EPISODE_KINDS = ("raised", "escalated", "reminder")
_FINISHED = (Result.DELIVERED.value, Result.FAILED.value)


def told_since(
    engine: Engine,
    station_id: int,
    raised: Mapping[str, datetime],
    channels: Collection[str],
    *,
    limit: int = MAX_LIST,
) -> list[Told]:
    """What each alarm's people were told on `channels` since it was raised (`raised`: alarm
    id -> when), for resuming escalations after a restart: oldest first, the newest `limit`.

    A notice counts once its delivery ended (delivered, or failed after its last try): one
    still being retried, dropped or not sent when the gateway stopped was not told, and is
    told again. Digests are not looked at, so an alarm told only in a flood digest is told
    on its own after a restart."""
    if not raised or not channels:
        return []
    table = notification_attempts
    query = (
        sa.select(
            table.c.alarm_id,
            table.c.route,
            table.c.level,
            table.c.recipient,
            table.c.kind,
            table.c.ts,
        )
        .where(
            table.c.station_id == station_id,
            table.c.alarm_id.in_(sorted(raised)),
            table.c.ts >= to_micros(min(raised.values())),
            table.c.kind.in_(_EPISODE_KINDS),
            table.c.result.in_(_FINISHED),
            table.c.channel.in_(sorted(channels)),
            table.c.route.is_not(None),
            table.c.level.is_not(None),
        )
        .order_by(table.c.ts.desc(), table.c.id.desc())
        .limit(max(1, min(limit, MAX_LIST)))
    )
    with engine.connect() as connection:
        rows = list(reversed(connection.execute(query).all()))
    told = [
        # The journal counts levels from 1, as people do; the planner from 0.
        Told(row.alarm_id, row.route, row.level - 1, row.recipient, row.kind, from_micros(row.ts))
        for row in rows
    ]
    return [entry for entry in told if entry.ts >= raised[entry.alarm_id]]
