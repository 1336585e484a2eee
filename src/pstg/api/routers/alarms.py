"""Alarms: the current list, the journal, the KPIs (viewer); acknowledge (one, a selection, or
all waiting), shelve, unshelve (operator); out of service and back (engineer). Every action is
journaled and audited in one transaction, or it does not happen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field, model_validator

from pstg.alarms.engine import ActionRefused, Alarm, Transition, UnknownAlarm
from pstg.api.deps import Context
from pstg.api.params import TimeRange, time_range
from pstg.api.refusals import action_refused
from pstg.api.routers import API_PREFIX
from pstg.api.security import actor_of, require
from pstg.auth.roles import Role
from pstg.auth.service import Principal
from pstg.times import format_instant as format_time
from pstg.times import parse_duration

router = APIRouter(prefix=API_PREFIX, tags=["alarms"])

MAX_JOURNAL = 10_000
MAX_KPI_RANGE = timedelta(days=366)
"""The longest range the KPIs are computed over (a year, with a leap day)."""
MAX_KPI_TRANSITIONS = 200_000
"""Journal rows the KPIs read at most (EEMUA 191 calls ~150 activations a day acceptable)."""
CURRENT: dict[str, Callable[[Alarm], bool]] = {
    "active": lambda alarm: alarm.active,
    "unacknowledged": lambda alarm: not alarm.acked,
    "shelved": lambda alarm: alarm.state.value == "shelved",
    "all": lambda alarm: True,
}


class AlarmOut(BaseModel):
    id: str
    kind: str
    priority: str
    message: str
    tag: str | None
    device: str | None
    state: str
    active: bool
    acked: bool
    value: float | str | None
    since: str | None
    shelved_until: str | None
    shelved_by: str | None
    user: str | None
    comment: str | None


class JournalOut(BaseModel):
    id: int
    ts: str
    alarm_id: str
    priority: str
    previous: str
    state: str
    active: bool
    value: Any
    user: str | None
    comment: str | None
    reason: str
    message: str


class AlarmsOut(BaseModel):
    state: str
    alarms: list[AlarmOut] = Field(default_factory=list)
    journal: list[JournalOut] = Field(default_factory=list)
    limit: int | None = None


class ActionIn(BaseModel):
    comment: str = Field(default="", max_length=1000)


class ShelveIn(ActionIn):
    duration: str | float = Field(description="How long: seconds, or 30m, 2h ...")


class TransitionOut(BaseModel):
    alarm_id: str
    ts: str
    previous: str
    state: str
    user: str | None
    comment: str | None
    reason: str


MAX_BULK = 1000
"""Alarm ids one bulk acknowledgement may name."""


class BulkAckIn(ActionIn):
    ids: list[str] | None = Field(
        default=None, min_length=1, max_length=MAX_BULK, description="The alarms to acknowledge."
    )
    all: bool = Field(
        default=False, description="Every alarm of the station waiting for an acknowledgement."
    )

    @model_validator(mode="after")
    def _one_selection(self) -> Self:
        if (self.ids is not None) == self.all:
            raise ValueError('give either "ids" (a list of alarm ids) or "all": true')
        return self


class RefusedOut(BaseModel):
    id: str
    reason: str


class BulkAckOut(BaseModel):
    acknowledged: list[TransitionOut]
    refused: list[RefusedOut]


class KpiOut(BaseModel):
    start: str
    end: str
    activations: int
    per_10min_avg: float
    per_10min_max: int
    flood_percent: float
    standing: list[str]
    stale: list[str]
    chattering: list[str]
    top: list[tuple[str, int]]


def _time(value: datetime | None) -> str | None:
    return None if value is None else format_time(value)


def alarm_out(alarm: Alarm) -> AlarmOut:
    """One alarm as the API shows it (GET /alarms and the live stream)."""
    rule = alarm.rule
    return AlarmOut(
        id=alarm.id, kind=rule.kind, priority=rule.priority, message=rule.message,
        tag=rule.tag, device=rule.device, state=alarm.state.value, active=alarm.active,
        acked=alarm.acked, value=alarm.value, since=_time(alarm.since),
        shelved_until=_time(alarm.shelved_until), shelved_by=alarm.shelved_by,
        user=alarm.user, comment=alarm.comment,
    )  # fmt: skip


def _service(context: Any) -> Any:
    if context.alarms is None:
        raise HTTPException(503, "the alarm engine is not running in this process")
    return context.alarms


@router.get(
    "/alarms",
    response_model=AlarmsOut,
    dependencies=[Depends(require(Role.VIEWER))],
    summary="Current alarms by state, or the alarm journal over a range",
)
def list_alarms(
    context: Context,
    span: Annotated[TimeRange, Depends(time_range)],
    state: Annotated[
        Literal["active", "unacknowledged", "shelved", "all", "history"],
        Query(description="Current alarms in this state, or `history`: the journal in range."),
    ] = "active",
    limit: Annotated[int, Query(ge=1, description="History rows at most (capped).")] = 1000,
) -> AlarmsOut:
    service = _service(context)
    if state != "history":
        chosen = [a for a in service.engine.alarms() if CURRENT[state](a)]
        return AlarmsOut(state=state, alarms=[alarm_out(a) for a in chosen])
    from pstg.alarms.service import journal

    used = min(limit, MAX_JOURNAL)
    rows = journal(context.engine, context.station_id, start=span.start, end=span.end, limit=used)
    return AlarmsOut(
        state=state,
        limit=used,
        journal=[
            JournalOut(**(row | {"ts": format_time(row["ts"]), "user": row["username"]}))
            for row in rows
        ],
    )


@router.get(
    "/alarms/kpi",
    response_model=KpiOut,
    dependencies=[Depends(require(Role.VIEWER))],
    summary="EEMUA 191 / ISA-18.2 alarm-system figures over a range",
)
def alarm_kpi(context: Context, span: Annotated[TimeRange, Depends(time_range)]) -> KpiOut:
    """Over at most `MAX_KPI_RANGE` and `MAX_KPI_TRANSITIONS`: more is refused (422), not
    computed; within them the work follows the journal, not the length of the range."""
    from pstg.alarms.kpi import alarm_kpis
    from pstg.alarms.service import kpi_transitions

    _service(context)
    if span.end - span.start > MAX_KPI_RANGE:
        days = (span.end - span.start) / timedelta(days=1)
        raise HTTPException(
            422,
            f"the KPI range is at most {MAX_KPI_RANGE.days} days; this one is {days:,.0f} "
            "days: ask for a shorter range (e.g. from=now-30d)",
        )
    transitions = kpi_transitions(context.engine, context.station_id, start=span.start,
                                  end=span.end, limit=MAX_KPI_TRANSITIONS + 1)  # fmt: skip
    if len(transitions) > MAX_KPI_TRANSITIONS:
        raise HTTPException(
            422,
            f"more than {MAX_KPI_TRANSITIONS:,} alarm transitions in the range (at most "
            f"{MAX_KPI_TRANSITIONS:,} are read): ask for a shorter range",
        )
    kpis = alarm_kpis(transitions, span.start, span.end)
    return KpiOut(
        start=format_time(kpis.start), end=format_time(kpis.end),
        activations=kpis.activations, per_10min_avg=kpis.per_10min_avg,
        per_10min_max=kpis.per_10min_max, flood_percent=kpis.flood_percent,
        standing=list(kpis.standing), stale=list(kpis.stale),
        chattering=list(kpis.chattering), top=[(a, n) for a, n in kpis.top],
    )  # fmt: skip


def _act(
    context: Any,
    request: Request,
    principal: Principal,
    action: str,
    alarm_id: str,
    comment: str,
    duration: float | None = None,
) -> TransitionOut:
    from pstg.alarms.service import ActionFailed

    service = _service(context)
    actor = actor_of(principal, request)
    try:
        transition: Transition = service.act(action, alarm_id, actor, comment or None, duration)
    except (UnknownAlarm, ActionRefused) as exc:
        action_refused(context, actor, f"alarm.{action}", f"alarm:{alarm_id}", str(exc))
        raise HTTPException(404 if isinstance(exc, UnknownAlarm) else 409, str(exc)) from None
    except ActionFailed as exc:
        raise HTTPException(503, str(exc)) from None
    return _transition_out(transition)


def _transition_out(transition: Transition) -> TransitionOut:
    return TransitionOut(
        alarm_id=transition.alarm_id, ts=format_time(transition.ts),
        previous=transition.previous.value, state=transition.state.value,
        user=transition.user, comment=transition.comment, reason=str(transition.reason),
    )  # fmt: skip


Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Engineer = Annotated[Principal, Depends(require(Role.ENGINEER))]


@router.post(
    "/alarms/ack", response_model=BulkAckOut,
    summary="Acknowledge several alarms, or all waiting for it",
)  # fmt: skip
def acknowledge_many(
    body: BulkAckIn, context: Context, request: Request, principal: Operator
) -> BulkAckOut:
    """Each alarm is journaled and audited as a single acknowledgement (in one transaction);
    ids that are unknown or not waiting are refused, each audited, and the others go on."""
    from pstg.alarms.service import ActionFailed

    service = _service(context)
    actor = actor_of(principal, request)
    try:
        done = service.acknowledge_many(None if body.all else body.ids, actor, body.comment or None)
    except ActionFailed as exc:
        raise HTTPException(503, str(exc)) from None
    for alarm_id, refusal in done.refused:
        action_refused(context, actor, "alarm.acknowledge", f"alarm:{alarm_id}", str(refusal))
    return BulkAckOut(
        acknowledged=[_transition_out(t) for t in done.acknowledged],
        refused=[RefusedOut(id=alarm_id, reason=str(why)) for alarm_id, why in done.refused],
    )


@router.post("/alarms/{alarm_id}/ack", response_model=TransitionOut, summary="Acknowledge")
def acknowledge(
    alarm_id: str, body: ActionIn, context: Context, request: Request, principal: Operator
) -> TransitionOut:
    return _act(context, request, principal, "acknowledge", alarm_id, body.comment)


@router.post("/alarms/{alarm_id}/shelve", response_model=TransitionOut, summary="Shelve")
def shelve(
    alarm_id: str, body: ShelveIn, context: Context, request: Request, principal: Operator
) -> TransitionOut:
    try:
        seconds = parse_duration(body.duration)
    except ValueError as exc:
        raise HTTPException(422, f"duration: {exc}") from None
    return _act(context, request, principal, "shelve", alarm_id, body.comment, seconds)


@router.post("/alarms/{alarm_id}/unshelve", response_model=TransitionOut, summary="Unshelve")
def unshelve(
    alarm_id: str, body: ActionIn, context: Context, request: Request, principal: Operator
) -> TransitionOut:
    return _act(context, request, principal, "unshelve", alarm_id, body.comment)


@router.post(
    "/alarms/{alarm_id}/out-of-service", response_model=TransitionOut,
    summary="Take out of service (maintenance)",
)  # fmt: skip
def remove(
    alarm_id: str, body: ActionIn, context: Context, request: Request, principal: Engineer
) -> TransitionOut:
    return _act(context, request, principal, "remove", alarm_id, body.comment)


@router.post(
    "/alarms/{alarm_id}/in-service", response_model=TransitionOut, summary="Return to service"
)
def restore(
    alarm_id: str, body: ActionIn, context: Context, request: Request, principal: Engineer
) -> TransitionOut:
    return _act(context, request, principal, "return", alarm_id, body.comment)
