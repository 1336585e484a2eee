"""`POST /api/v1/auth/token` (OAuth2 password flow), `GET /api/v1/auth/me`, and the web
console's browser session: `POST /api/v1/auth/session` (log in: a cookie) and
`DELETE /api/v1/auth/session` (log out)."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from pstg.api.context import ApiContext
from pstg.api.deps import get_context
from pstg.api.login_gate import login_gate
from pstg.api.refusals import cross_site_login_refused, request_line
from pstg.api.same_site import cross_site_reason
from pstg.api.security import (
    SESSION_COOKIE,
    ViewerPrincipal,
    actor_of,
    auth_http_error,
    client_address,
)
from pstg.auth.roles import RoleName
from pstg.auth.service import AuthError, Principal
from pstg.auth.sessions import csrf_token
from pstg.times import format_instant

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
    via: Literal["password", "access_token", "api_token", "session"]
    token_id: int | None = Field(
        description="The API token's id when via is api_token, the session's when session."
    )


class SessionOut(BaseModel):
    username: str
    role: RoleName
    csrf_token: str = Field(
        description="Send as X-CSRF-Token with every POST, PATCH and DELETE of this session."
    )
    expires_at: str = Field(description="The session's absolute end (RFC 3339).")
    idle_s: int = Field(description="It also ends this many seconds after its last request.")


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
    principal = await _password_login(request, form, context)
    token, seconds = context.auth.issue_access_token(principal)
    return AccessTokenOut(access_token=token, expires_in=seconds)


async def _password_login(
    request: Request, form: OAuth2PasswordRequestForm, context: ApiContext
) -> Principal:
    """The user of a name and password, through the login gate, the throttle and the audit;
    every refusal answered at the same delay."""
    arrived = time.monotonic()
    try:
        async with login_gate(request.app).slot():
            # argon2 takes tens of milliseconds of CPU on purpose: not on the event loop.
            return await run_in_threadpool(
                context.auth.login, form.username, form.password, source=client_address(request)
            )
    except AuthError as exc:
        await asyncio.sleep(max(0.0, arrived + FAILED_LOGIN_DELAY_S - time.monotonic()))
        raise auth_http_error(exc) from None


@router.post(
    "/session",
    response_model=SessionOut,
    responses={
        401: {"description": "Wrong user name or password, no such user, or a disabled user."},
        403: {"description": "The request says it comes from another site (login CSRF)."},
        429: {"description": "Too many failed logins for this name from this address."},
        503: {"description": "Too many logins at once; see Retry-After."},
    },
)
async def start_session(
    request: Request,
    response: Response,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    context: Annotated[ApiContext, Depends(get_context)],
) -> SessionOut:
    """Log in a browser (the web console): the session in an HttpOnly, SameSite=Strict
    cookie, and the CSRF token its changes must carry in X-CSRF-Token. A login that says it
    comes from another site's page is refused before the password is looked at (403)."""
    source = client_address(request)
    cross_site = cross_site_reason(request.headers, request.url.scheme)
    if cross_site is not None:
        await run_in_threadpool(
            cross_site_login_refused, context, form.username, source, request_line(request),
            cross_site,
        )  # fmt: skip
        raise HTTPException(403, f"a login from another site's page is refused ({cross_site})")
    principal = await _password_login(request, form, context)
    token, info = await run_in_threadpool(context.auth.start_session, principal, source)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(context.auth.session_lifetime.total_seconds()),
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return SessionOut(
        username=principal.username,
        role=principal.role.label,
        csrf_token=csrf_token(token),
        expires_at=format_instant(info.expires_at),
        idle_s=int(context.auth.session_idle.total_seconds()),
    )


class LogoutOut(BaseModel):
    ended: bool = Field(description="Whether a session ended (false with a bearer token).")


@router.delete("/session", response_model=LogoutOut)
async def end_session(
    request: Request,
    response: Response,
    principal: ViewerPrincipal,
    context: Annotated[ApiContext, Depends(get_context)],
) -> LogoutOut:
    """Log out: the session of the cookie ends (it is refused from now on) and the cookie is
    cleared. With a bearer token there is no session: nothing ends."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if principal.via == "session" and cookie:
        ended = await run_in_threadpool(
            context.auth.end_session, cookie, actor_of(principal, request)
        )
        response.delete_cookie(
            SESSION_COOKIE, path="/", secure=request.url.scheme == "https",
            httponly=True, samesite="strict",
        )  # fmt: skip
        return LogoutOut(ended=ended is not None)
    return LogoutOut(ended=False)


@router.get("/me", response_model=PrincipalOut)
async def me(principal: ViewerPrincipal) -> PrincipalOut:
    """Who the bearer token (or the session cookie) stands for, with the current role."""
    return PrincipalOut(
        username=principal.username,
        role=principal.role.label,
        via=principal.via,
        token_id=principal.token_id,
    )
