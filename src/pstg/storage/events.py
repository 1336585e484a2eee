"""The events journal's rows: one builder for every writer of events.

The sample writer journals what the pipeline reports, the alarm service journals transitions
in the transaction of their journal rows, and auth journals logins with their audit rows; all
of them build the row here, so the journal has one shape whoever writes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pstg.model import Event
from pstg.storage.schema import events
from pstg.times import to_micros


def event_row(event: Event, station_id: int | None) -> dict[str, Any]:
    """The `events` row of `event` (station_id None: not tied to a station, e.g. a login)."""
    return row(
        ts=to_micros(event.ts),
        station_id=station_id,
        kind=event.kind.value,
        source=event.source,
        message=event.message,
        attributes=event.attributes or {},
    )


def row(
    *,
    ts: int,
    station_id: int | None,
    kind: str,
    source: str,
    message: str,
    attributes: Mapping[str, object],
) -> dict[str, Any]:
    """An `events` row from its parts (`ts` in µs)."""
    return {
        "ts": ts,
        "station_id": station_id,
        "kind": kind,
        "source": source,
        "message": message,
        "attributes": dict(attributes),
    }


def insert_events(connection: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert `rows` (from `event_row` or `row`) in the caller's transaction."""
    batch = list(rows)
    if batch:
        connection.execute(sa.insert(events), batch)
