"""Notifications: the delivery journal (operator) and a test notification (engineer).

    GET  /notifications        every delivery attempt, newest first, with filters
    POST /notifications/test   a test message to a person, group or rota, now; audited

The journal is for operators, not viewers: it names the people on call and who was (or was
not) reached, which a dashboard's read-only account has no need to see. A test sends real
messages to people's phones and mailboxes, so it is an engineer's, like the config it checks.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from pstg.api.deps import Context
from pstg.api.params import OpenTimeRange, open_time_range
from pstg.api.routers import API_PREFIX
from pstg.api.security import EngineerPrincipal, OperatorPrincipal, actor_of
from pstg.notify import journal
from pstg.notify.tester import NotifyTestReport, UnknownRecipient, audit, check_recipient
from pstg.times import format_instant

router = APIRouter(prefix=API_PREFIX, tags=["notifications"])

Results = Literal["delivered", "retrying", "failed", "dropped", "not_sent"]
Kinds = Literal[
    "raised", "escalated", "reminder", "acknowledged", "cleared", "masked", "digest", "test",
    "self_test",
]  # fmt: skip


class AttemptOut(BaseModel):
    id: int
    ts: str
    notification_id: str = Field(description="The same on every try of one notification.")
    channel: str
    recipient: str
    kind: str
    alarm_id: str | None
    alarms: list[str] = Field(description="The alarms a digest tells of (one for the others).")
    route: str | None
    level: int | None = Field(description="The escalation level, 1 for the first.")
    attempt: int
    result: str
    error: str | None
    detail: str


class AttemptsOut(BaseModel):
    attempts: list[AttemptOut]
    limit: int


class NotifyTestIn(BaseModel):
    to: str = Field(min_length=1, max_length=64, description="A person, group or rota.")
    comment: str = Field(default="", max_length=1000)


class DeliveryOut(BaseModel):
    channel: str
    recipient: str
    delivered: bool
    error: str | None
    detail: str
    notification_id: str


class NotifyTestOut(BaseModel):
    to: str
    delivered: bool = Field(description="Someone was reached, and no delivery failed.")
    deliveries: list[DeliveryOut]


@router.get("/notifications", response_model=AttemptsOut, summary="The notification journal")
def list_attempts(
    context: Context,
    principal: OperatorPrincipal,
    span: Annotated[OpenTimeRange, Depends(open_time_range)],
    channel: Annotated[str | None, Query(max_length=64)] = None,
    recipient: Annotated[str | None, Query(max_length=64)] = None,
    alarm_id: Annotated[str | None, Query(max_length=200)] = None,
    kind: Kinds | None = None,
    result: Results | None = None,
    limit: Annotated[
        int, Query(ge=1, le=journal.MAX_LIST, description="Attempts returned at most.")
    ] = 1000,
) -> dict[str, Any]:
    for name, value in (("channel", channel), ("recipient", recipient), ("alarm_id", alarm_id)):
        if value is not None and "\x00" in value:  # PostgreSQL refuses NUL in text
            raise HTTPException(422, f"query parameter {name!r}: must not contain NUL characters")
    rows = journal.read(
        context.engine, context.station_id, start=span.start, end=span.end, channel=channel,
        recipient=recipient, alarm_id=alarm_id, kind=kind, result=result, limit=limit,
    )  # fmt: skip
    return {
        "attempts": [row | {"ts": format_instant(row["ts"])} for row in rows],
        "limit": limit,
    }


@router.post(
    "/notifications/test", response_model=NotifyTestOut, summary="Send a test notification now"
)
async def send_test(
    body: NotifyTestIn, context: Context, request: Request, principal: EngineerPrincipal
) -> dict[str, Any]:
    try:
        check_recipient(context.config, body.to)
    except UnknownRecipient as exc:
        raise HTTPException(404, str(exc)) from None
    if not context.notifications:
        raise HTTPException(503, "notifications are not sent by this process")
    results = await asyncio.gather(
        *(sink.send_test([body.to], principal.username) for sink in context.notifications)
    )
    report = NotifyTestReport(body.to, [outcome for outcomes in results for outcome in outcomes])
    actor = actor_of(principal, request)
    await asyncio.to_thread(audit, context.engine, actor, report, body.comment)
    return report.as_json()
