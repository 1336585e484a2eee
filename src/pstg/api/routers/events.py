"""GET /events: the events journal (device connects and disconnects, alarms, logins), newest
first. Security events (logins, with the typed user name and the client's address) are for
engineers and admins: viewers and operators see only `OPERATIONAL_EVENT_KINDS`."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query

from pstg.api.deps import Context
from pstg.api.params import OpenTimeRange, open_time_range
from pstg.api.routers import API_PREFIX
from pstg.api.schemas import EventsOut
from pstg.api.security import ViewerPrincipal, require
from pstg.auth.roles import Role
from pstg.model import OPERATIONAL_EVENT_KINDS
from pstg.storage.rows import from_micros, to_micros
from pstg.storage.schema import events

DEFAULT_EVENTS_LIMIT = 1000
MAX_EVENTS_LIMIT = 10_000
MAX_KINDS = 50

router = APIRouter(prefix=API_PREFIX, tags=["events"], dependencies=[Depends(require(Role.VIEWER))])


@router.get("/events", response_model=EventsOut, summary="The events journal, newest first")
def list_events(
    context: Context,
    principal: ViewerPrincipal,
    span: Annotated[OpenTimeRange, Depends(open_time_range)],
    kind: Annotated[
        list[str] | None,
        Query(description="Only these kinds (repeat the parameter for several)."),
    ] = None,
    source: Annotated[
        str | None, Query(description="Only events about this device, tag or user.")
    ] = None,
    limit: Annotated[
        int,
        Query(ge=1, description=f"Most events returned; more than {MAX_EVENTS_LIMIT} is capped."),
    ] = DEFAULT_EVENTS_LIMIT,
) -> dict[str, Any]:
    if kind is not None and len(kind) > MAX_KINDS:
        raise HTTPException(422, f"query parameter 'kind': at most {MAX_KINDS} kinds at once")
    for name, value in [("kind", text) for text in kind or ()] + [("source", source)]:
        if value is not None and "\x00" in value:  # PostgreSQL refuses NUL in text
            raise HTTPException(422, f"query parameter {name!r}: must not contain NUL characters")
    limit = min(limit, MAX_EVENTS_LIMIT)
    query = (
        sa.select(
            events.c.id,
            events.c.ts,
            events.c.kind,
            events.c.source,
            events.c.message,
            events.c.attributes,
        )
        .where(sa.or_(events.c.station_id == context.station_id, events.c.station_id.is_(None)))
        .order_by(events.c.ts.desc(), events.c.id.desc())
        .limit(limit)
    )
    if span.start is not None:
        query = query.where(events.c.ts >= to_micros(span.start))
    if span.end is not None:
        query = query.where(events.c.ts < to_micros(span.end))
    if kind:
        query = query.where(events.c.kind.in_(kind))
    if principal.role < Role.ENGINEER:
        query = query.where(events.c.kind.in_(sorted(k.value for k in OPERATIONAL_EVENT_KINDS)))
    if source is not None:
        query = query.where(events.c.source == source)
    with context.engine.connect() as connection:
        rows = connection.execute(query).all()
    return {
        "events": [
            {
                "id": row.id,
                "ts": from_micros(row.ts),
                "kind": row.kind,
                "source": row.source,
                "message": row.message,
                "attributes": row.attributes or {},
            }
            for row in rows
        ],
        "limit": limit,
    }
