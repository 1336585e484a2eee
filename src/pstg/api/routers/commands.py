"""Commands: select-before-operate (docs/commands.md).

    POST /commands                 select (a `mode: direct` tag: select and operate at once)
    POST /commands/{id}/operate    operate the selection: checks again, write, read-back
    POST /commands/{id}/cancel     cancel the selection
    GET  /commands                 the command journal, newest first, with filters
    GET  /commands/tags            the commandable tags: their blocks, whether the caller may
                                   command each, each interlock and whether it holds now
    GET  /commands/{id}            one command

Any logged-in user may ask; each tag's command block says the least role that may command it,
and the service refuses (403) and audits below it. A refusal answers `{"detail", "rule"}`:
which rule refused and why.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from pstg.api.context import ApiContext
from pstg.api.deps import Context
from pstg.api.params import OpenTimeRange, open_time_range
from pstg.api.refusals import action_refused
from pstg.api.routers import API_PREFIX
from pstg.api.schemas import LatestOut
from pstg.api.security import actor_of, require
from pstg.auth.roles import Role
from pstg.auth.service import Principal
from pstg.errors import Conflict, Forbidden, Invalid, NotFound, PstgError, Unavailable
from pstg.model import Sample
from pstg.times import format_instant

if TYPE_CHECKING:
    from pstg.commands.model import Command
    from pstg.commands.service import CommandService

router = APIRouter(prefix=API_PREFIX, tags=["commands"])

MAX_LIST = 1000
States = Literal[
    "selected", "operating", "confirmed", "not_confirmed", "device_refused", "failed",
    "refused", "cancelled", "expired",
]  # fmt: skip
_STATUS: dict[type[PstgError], int] = {
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    Unavailable: 503,
}

Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]


class CommandIn(BaseModel):
    tag: str = Field(max_length=128)
    value: bool | float | Annotated[str, Field(max_length=200)] = Field(
        description="A number, true/false, an enumeration's label, or text for a string tag."
    )
    comment: str = Field(default="", max_length=1000)


class StepIn(BaseModel):
    """Nothing to send yet; an object keeps room for more."""


class CommandOut(BaseModel):
    id: int
    tag: str
    value: Any
    label: str | None
    comment: str
    user: str
    role: str | None
    mode: Literal["sbo", "direct"]
    state: States
    rule: str | None = Field(description="The rule that refused it, when refused.")
    detail: str
    selected_at: str
    expires_at: str | None
    operated_at: str | None
    finished_at: str | None
    old_value: Any
    read_back: Any
    exception_code: int | None
    seconds: float | None = Field(description="From the operate to the outcome.")


class ChoiceOut(BaseModel):
    value: int
    label: str


class InterlockOut(BaseModel):
    tag: str
    comparison: Literal["equals", "not_equals", "above", "below"]
    operand: float | str = Field(description="A number, text, or `value`: the value commanded.")
    message: str
    holds: bool = Field(
        description="Whether it holds now (`value` interlocks: whether their tag has a good, "
        "fresh reading; the comparison is made with the value asked)."
    )
    problem: str | None = Field(description="Why it does not hold, as a refusal would say.")


class ReadbackOut(BaseModel):
    tag: str
    timeout: float
    tolerance: float
    equals: float | None


class CommandTagOut(BaseModel):
    tag: str
    device: str
    description: str
    unit: str
    type: str
    mode: Literal["sbo", "direct"]
    role: str = Field(description="The least role that may command it.")
    allowed: bool = Field(description="Whether the caller's role may command it.")
    min: float | None
    max: float | None
    values: list[ChoiceOut] | None = Field(description="An enumeration's values and labels.")
    pulse: bool
    select_timeout: float
    min_interval: float
    readback: ReadbackOut
    interlocks: list[InterlockOut]
    latest: LatestOut | None = Field(description="The tag's live value, as /tags gives it.")
    selected_by: str | None = Field(description="Who holds a selection of it now.")
    selected_until: str | None


class CommandsOut(BaseModel):
    commands: list[CommandOut]
    limit: int


def _out(command: Command) -> CommandOut:
    def time(value: Any) -> str | None:
        return None if value is None else format_instant(value)

    return CommandOut(
        id=command.id, tag=command.tag, value=command.value, label=command.label,
        comment=command.comment, user=command.user, role=command.role, mode=command.mode,
        state=command.state.value, rule=command.rule, detail=command.detail,
        selected_at=format_instant(command.selected_at), expires_at=time(command.expires_at),
        operated_at=time(command.operated_at), finished_at=time(command.finished_at),
        old_value=command.old_value, read_back=command.read_back,
        exception_code=command.exception_code, seconds=command.seconds,
    )  # fmt: skip


def _service(context: ApiContext) -> CommandService:
    if context.commands is None:
        raise HTTPException(503, "commands are not served by this process")
    return context.commands


async def _answer(
    context: ApiContext,
    request: Request,
    principal: Principal,
    action: str,
    target: str,
    step: Any,
) -> Any:
    """Run a service step; refusals as JSON with the rule, errors as their status."""
    from pstg.commands.model import CommandRefused

    try:
        return await step
    except CommandRefused as refusal:  # audited by the service
        return JSONResponse(
            {"detail": refusal.message, "rule": refusal.rule},
            status_code=_STATUS.get(refusal.error, 409),
        )
    except (NotFound, Forbidden) as exc:  # no such tag or command: through the rate limit
        actor = actor_of(principal, request)
        await asyncio.to_thread(action_refused, context, actor, action, target, exc.message)
        status = 404 if isinstance(exc, NotFound) else 403
        raise HTTPException(status, exc.message) from None


@router.post(
    "/commands",
    response_model=CommandOut,
    status_code=201,
    summary="Select a command (a `mode: direct` tag: select and operate)",
    responses={200: {"model": CommandOut, "description": "A direct command, operated"}},
)
async def select(
    body: CommandIn, context: Context, request: Request, response: Response, principal: Viewer
) -> Any:
    service = _service(context)
    result = await _answer(
        context, request, principal, "command.select", f"tag:{body.tag}",
        service.select(actor_of(principal, request), principal.role, body.tag, body.value,
                       body.comment),
    )  # fmt: skip
    if isinstance(result, JSONResponse):
        return result
    if result.mode == "direct":
        response.status_code = 200
    return _out(result)


@router.post(
    "/commands/{command_id}/operate", response_model=CommandOut, summary="Operate a selection"
)
async def operate(
    command_id: int, context: Context, request: Request, principal: Viewer,
    body: StepIn | None = None,
) -> Any:  # fmt: skip
    service = _service(context)
    result = await _answer(
        context, request, principal, "command.operate", f"command:{command_id}",
        service.operate(actor_of(principal, request), principal.role, command_id),
    )  # fmt: skip
    return result if isinstance(result, JSONResponse) else _out(result)


@router.post(
    "/commands/{command_id}/cancel", response_model=CommandOut, summary="Cancel a selection"
)
async def cancel(
    command_id: int, context: Context, request: Request, principal: Viewer,
    body: StepIn | None = None,
) -> Any:  # fmt: skip
    service = _service(context)
    result = await _answer(
        context, request, principal, "command.cancel", f"command:{command_id}",
        service.cancel(actor_of(principal, request), command_id),
    )  # fmt: skip
    return result if isinstance(result, JSONResponse) else _out(result)


@router.get("/commands", response_model=CommandsOut, summary="The command journal")
async def list_commands(
    context: Context,
    principal: Viewer,
    span: Annotated[OpenTimeRange, Depends(open_time_range)],
    tag: Annotated[str | None, Query(max_length=128)] = None,
    user: Annotated[str | None, Query(max_length=128)] = None,
    state: States | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST, description="Rows at most.")] = 100,
) -> CommandsOut:
    service = _service(context)
    found = await service.list(
        tag=tag, user=user, state=state, start=span.start, end=span.end, limit=limit
    )
    return CommandsOut(commands=[_out(command) for command in found], limit=limit)


@router.get(
    "/commands/tags",
    response_model=list[CommandTagOut],
    summary="Commandable tags, with their interlocks now",
)
async def command_tags(
    context: Context,
    principal: Viewer,
    tag: Annotated[list[str] | None, Query(max_length=128, description="Only these.")] = None,
) -> list[CommandTagOut]:
    service = _service(context)
    wanted = None if tag is None else set(tag)
    live = context.live.snapshot()
    found = []
    for config, device in service.command_tags():
        if wanted is not None and config.name not in wanted:
            continue
        block = config.command
        assert block is not None
        pending = service.reservation(config.name)
        interlocks = [
            InterlockOut(
                tag=interlock.tag, comparison=interlock.comparison,
                operand=interlock.operand, message=interlock.message,
                holds=problem is None, problem=problem,
            )
            for interlock, problem in service.interlocks_now(config.name)
        ]  # fmt: skip
        found.append(
            CommandTagOut(
                tag=config.name, device=device.id, description=config.description,
                unit=config.unit, type=config.data_type.value, mode=block.mode,
                role=block.role, allowed=principal.role >= Role.parse(block.role),
                min=block.min, max=block.max,
                values=None if block.values is None else [
                    ChoiceOut(value=key, label=label) for key, label in block.values.items()
                ],
                pulse=block.pulse, select_timeout=block.select_timeout,
                min_interval=block.min_interval,
                readback=ReadbackOut(
                    tag=block.readback.tag or config.name, timeout=block.readback.timeout,
                    tolerance=block.readback.tolerance, equals=block.readback.equals,
                ),
                interlocks=interlocks, latest=_latest(live.get(config.name)),
                selected_by=None if pending is None else pending.user,
                selected_until=None if pending is None or pending.expires_at is None
                else format_instant(pending.expires_at),
            )
        )  # fmt: skip
    return found


def _latest(sample: Sample | None) -> LatestOut | None:
    if sample is None:
        return None
    return LatestOut(value=sample.value, quality=sample.quality, reason=sample.reason, ts=sample.ts)


@router.get("/commands/{command_id}", response_model=CommandOut, summary="One command")
async def get_command(command_id: int, context: Context, principal: Viewer) -> CommandOut:
    from pstg.commands.model import UnknownCommand

    service = _service(context)
    try:
        return _out(await service.get(command_id))
    except UnknownCommand as exc:
        raise HTTPException(404, exc.message) from None
