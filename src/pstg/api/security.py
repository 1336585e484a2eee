"""Bearer-token and browser-session authentication and role checks for the routers.

`require(Role.X)` is a dependency that answers 401 (with `WWW-Authenticate: Bearer`) when the
request has no valid token, 403 when the caller's role is below X, and otherwise gives the
routers the `Principal`. A request without `Authorization` may instead carry the web
console's session cookie (`SESSION_COOKIE`, from POST /api/v1/auth/session); such a request
with an unsafe method (POST, PUT, PATCH, DELETE) must also send the session's CSRF token in
`X-CSRF-Token`, or it is refused 403: a page elsewhere can make the browser send the cookie
(were SameSite not honoured), never the token. Refused tokens, sessions, CSRF tokens and
roles are audited (pstg.api.refusals). The `...Principal` aliases read better in signatures:

    @router.get("/config")
    def config(principal: EngineerPrincipal) -> ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from pstg.api.context import ApiContext
from pstg.api.deps import get_context
from pstg.api.refusals import (
    authenticate,
    authenticate_session,
    csrf_refused,
    request_line,
    role_refused,
)
from pstg.audit import Actor
from pstg.auth.roles import Role
from pstg.auth.service import AuthError, Principal
from pstg.auth.sessions import csrf_matches

TOKEN_URL = "/api/v1/auth/token"
CHALLENGE = {"WWW-Authenticate": "Bearer"}
SESSION_COOKIE = "pstg_session"
"""The web console's session (HttpOnly, SameSite=Strict; pstg.auth.sessions)."""
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_REFUSED = "missing or wrong CSRF token (X-CSRF-Token): reload the page"

bearer_token = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    auto_error=False,
    description="An access token from POST /api/v1/auth/token, or an API token (pstg_...).",
)
"""Reads `Authorization: Bearer ...`; also what makes /docs offer its "Authorize" button."""


def auth_http_error(error: AuthError) -> HTTPException:
    """The HTTP answer to a refused login or token."""
    headers: dict[str, str] | None = None
    if error.status == 401:
        headers = CHALLENGE
    elif error.retry_after is not None:
        headers = {"Retry-After": str(error.retry_after)}
    return HTTPException(error.status, error.message, headers=headers)


def client_address(request: Request) -> str:
    """The client's address as this server sees it (behind a reverse proxy: the proxy's,
    unless uvicorn is told to trust its X-Forwarded-For)."""
    return request.client.host if request.client is not None else "unknown"


def actor_of(principal: Principal, request: Request) -> Actor:
    """The caller as the audit log names it."""
    return Actor(principal.username, principal.role.label, principal.via, client_address(request))


@cache
def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting callers whose current role is `role` or higher."""

    async def check_role(
        request: Request,
        context: Annotated[ApiContext, Depends(get_context)],
        token: Annotated[str | None, Depends(bearer_token)],
    ) -> Principal:
        session = None if token else request.cookies.get(SESSION_COOKIE)
        if not token and not session:
            raise HTTPException(
                401, "missing bearer token: send Authorization: Bearer <token>", CHALLENGE
            )
        source, target = client_address(request), request_line(request)
        principal = await _on_the_loop(context, token, session)
        if principal is None:
            try:
                # The same check in a worker thread, which records a refusal in the audit
                # log (a write) and writes a token's or session's last use when due.
                if session:
                    principal = await run_in_threadpool(
                        authenticate_session, context, session, source, target
                    )
                else:
                    assert token is not None
                    principal = await run_in_threadpool(
                        authenticate, context, token, source, target
                    )
            except AuthError as exc:
                raise auth_http_error(exc) from None
        if (
            session
            and request.method in UNSAFE_METHODS
            and not csrf_matches(session, request.headers.get(CSRF_HEADER))
        ):
            await run_in_threadpool(csrf_refused, context, principal, source, target)
            raise HTTPException(403, CSRF_REFUSED)
        if principal.role < role:
            await run_in_threadpool(role_refused, context, principal, role, source, target)
            raise HTTPException(
                403,
                f"this needs the role {role.label} or higher; "
                f"{principal.username!r} is {principal.role.label}",
            )
        request.state.principal = principal
        return principal

    check_role.__name__ = f"require_{role.label}"
    return check_role


async def _on_the_loop(
    context: ApiContext, token: str | None, session: str | None
) -> Principal | None:
    """The caller, when the check's read can be made on the event loop and admits them
    (pstg.auth.loop_reads: no worker thread for most requests); None otherwise."""
    try:
        if session:
            return await context.auth.authenticate_session_on_loop(session)
        assert token is not None
        return await context.auth.authenticate_on_loop(token)
    except AuthError:
        return None  # refused: the worker-thread path refuses it again and audits it


ViewerPrincipal = Annotated[Principal, Depends(require(Role.VIEWER))]
OperatorPrincipal = Annotated[Principal, Depends(require(Role.OPERATOR))]
EngineerPrincipal = Annotated[Principal, Depends(require(Role.ENGINEER))]
AdminPrincipal = Annotated[Principal, Depends(require(Role.ADMIN))]
