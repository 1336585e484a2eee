"""`GET /api/v1/audit` (the audit log, oldest first, paged by id) and
`GET /api/v1/audit/verify` (check the hash chain), for engineers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from pstg import audit
from pstg.api.deps import Context
from pstg.api.params import OpenTimeRange, open_time_range
from pstg.api.routers import API_PREFIX
from pstg.api.security import require
from pstg.auth.roles import Role

DEFAULT_AUDIT_LIMIT = 100
MAX_AUDIT_LIMIT = 10_000
MAX_ID = 2**63 - 1

router = APIRouter(
    prefix=API_PREFIX, tags=["audit"], dependencies=[Depends(require(Role.ENGINEER))]
)


class AuditEntryOut(BaseModel):
    id: int
    ts: datetime
    actor: str = Field(description="The user name, or the OS user for the command line.")
    role: str | None = Field(description="The actor's role then; null on the command line.")
    via: str = Field(description="password, access_token, api_token, cli or system.")
    source: str = Field(description="The client's address, or cli.")
    action: str = Field(description="login, user.add, user.update, token.create, ...")
    target: str = Field(description="What was acted on: user:NAME, token:ID, ...")
    old_value: Any = Field(description="The fields changed, before (JSON); null if none.")
    new_value: Any = Field(description="The fields changed, after (JSON); null if none.")
    result: str = Field(description="ok, denied or failed.")
    detail: str = Field(description="Why it was denied or failed.")
    prev_hash: str
    hash: str


class AuditOut(BaseModel):
    entries: list[AuditEntryOut]
    limit: int
    next_after: int | None = Field(
        description="Pass as `after` for the next page; null when this page is the last."
    )


class ProblemOut(BaseModel):
    id: int = Field(description="The row (for deleted rows: the first missing id).")
    kind: audit.ProblemKind
    message: str


class VerifyOut(BaseModel):
    ok: bool
    checked: int = Field(description="Rows read.")
    problems: list[ProblemOut] = Field(description="At most 1000, by row.")
    problem_count: int
    head_id: int | None = Field(description="The last row: keep (head_id, head_hash) elsewhere.")
    head_hash: str | None


@router.get("/audit", response_model=AuditOut, summary="The audit log, oldest first")
def list_audit(
    context: Context,
    span: Annotated[OpenTimeRange, Depends(open_time_range)],
    actor: Annotated[str | None, Query(description="Only this actor's rows.")] = None,
    action: Annotated[str | None, Query(description="Only this action, e.g. login.")] = None,
    limit: Annotated[
        int,
        Query(ge=1, description=f"Most rows returned; more than {MAX_AUDIT_LIMIT} is capped."),
    ] = DEFAULT_AUDIT_LIMIT,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="Only rows after this id (paging).")
    ] = None,
) -> AuditOut:
    for name, value in (("actor", actor), ("action", action)):
        if value is not None and "\x00" in value:  # PostgreSQL refuses NUL in text
            raise HTTPException(422, f"query parameter {name!r}: must not contain NUL characters")
    limit = min(limit, MAX_AUDIT_LIMIT)
    rows = audit.list_entries(
        context.engine,
        start=span.start,
        end=span.end,
        actor=actor,
        action=action,
        limit=limit,
        after_id=after,
    )
    return AuditOut(
        entries=[AuditEntryOut.model_validate(row, from_attributes=True) for row in rows],
        limit=limit,
        next_after=rows[-1].id if len(rows) == limit else None,
    )


@router.get("/audit/verify", response_model=VerifyOut, summary="Check the audit hash chain")
def verify_audit(context: Context) -> VerifyOut:
    """Read the whole log and name every edited, deleted, reordered or inserted row."""
    result = audit.verify(context.engine)
    return VerifyOut.model_validate(result, from_attributes=True)
