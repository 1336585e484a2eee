"""`POST /api/v1/auth/token` (OAuth2 password flow) and `GET /api/v1/auth/me`."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from pstg.api.context import ApiContext
from pstg.api.deps import get_context
from pstg.api.login_gate import login_gate
from pstg.api.security import ViewerPrincipal, auth_http_error, client_address
from pstg.auth.roles import RoleName
from pstg.auth.service import AuthError

FAILED_LOGIN_DELAY_S = 0.5
"""Every refused login answers this long after it came (or later, when checking it took
longer): guessing passwords gets slow, and the time does not tell why it was refused."""

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class AccessTokenOut(BaseModel):
    access_token: str = Field(description="Send as `Authorization: Bearer <access_token>`.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")


class PrincipalOut(BaseModel):
    username: str
    role: RoleName = Field(description="The role the database gives the user now.")
    via: Literal["password", "access_token", "api_token"]
    token_id: int | None = Field(description="The API token's id when via is api_token.")


@router.post(
    "/token",
    response_model=AccessTokenOut,
    responses={
        401: {"description": "Wrong user name or password, no such user, or a disabled user."},
        429: {"description": "Too many failed logins for this name from this address."},
        503: {"description": "Too many logins at once; see Retry-After."},
    },
)
async def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    context: Annotated[ApiContext, Depends(get_context)],
) -> AccessTokenOut:
    """Log in with a user name and password (form fields) for a short-lived access token."""
    arrived = time.monotonic()
    try:
        async with login_gate(request.app).slot():
            # argon2 takes tens of milliseconds of CPU on purpose: not on the event loop.
            principal = await run_in_threadpool(
                context.auth.login, form.username, form.password, source=client_address(request)
            )
    except AuthError as exc:
        await asyncio.sleep(max(0.0, arrived + FAILED_LOGIN_DELAY_S - time.monotonic()))
        raise auth_http_error(exc) from None
    token, seconds = context.auth.issue_access_token(principal)
    return AccessTokenOut(access_token=token, expires_in=seconds)


@router.get("/me", response_model=PrincipalOut)
async def me(principal: ViewerPrincipal) -> PrincipalOut:
    """Who the bearer token stands for, with the current role."""
    return PrincipalOut(
        username=principal.username,
        role=principal.role.label,
        via=principal.via,
        token_id=principal.token_id,
    )
