"""Refused requests into the audit log (and the log), through the rate limit of
pstg.audit.refusals (`context.auth.refusals`): a bearer token refused (401, action
`token.refused`), a role too low (403, `role.refused`), an alarm action refused (404/409, the
action with result `failed`). A request without any token is not recorded: that is how every
browser starts.

These functions block (a database write): call them in a worker thread.
"""

from __future__ import annotations

from fastapi import Request

from pstg.api.context import ApiContext
from pstg.audit import Actor, AuditEntry, Via
from pstg.auth.roles import Role
from pstg.auth.service import AuthError, Principal
from pstg.auth.tokens import is_api_token


def request_line(request: Request) -> str:
    """What was asked: `GET /api/v1/config` (without the query)."""
    return f"{request.method} {request.url.path}"


def authenticate(context: ApiContext, bearer: str, source: str, target: str) -> Principal:
    """context.auth.authenticate, recording a refusal (then raised again)."""
    try:
        return context.auth.authenticate(bearer)
    except AuthError as exc:
        via: Via = "api_token" if is_api_token(bearer) else "access_token"
        entry = AuditEntry(
            Actor(exc.username or "(unknown)", None, via, source),
            "token.refused",
            target,
            result="denied",
            detail=exc.message,
        )
        context.auth.refusals.record("token", entry)
        raise


def authenticate_session(context: ApiContext, cookie: str, source: str, target: str) -> Principal:
    """context.auth.authenticate_session, recording a refusal (then raised again)."""
    try:
        return context.auth.authenticate_session(cookie)
    except AuthError as exc:
        entry = AuditEntry(
            Actor(exc.username or "(unknown)", None, "session", source),
            "session.refused",
            target,
            result="denied",
            detail=exc.message,
        )
        context.auth.refusals.record("token", entry)
        raise


def csrf_refused(context: ApiContext, principal: Principal, source: str, target: str) -> None:
    """A change asked with the session cookie but without the session's CSRF token."""
    entry = AuditEntry(
        Actor(principal.username, principal.role.label, principal.via, source),
        "csrf.refused",
        target,
        result="denied",
        detail="missing or wrong CSRF token",
    )
    context.auth.refusals.record("csrf", entry)


def cross_site_login_refused(
    context: ApiContext, username: str, source: str, target: str, why: str
) -> None:
    """A session login posted by another site's page (login CSRF, pstg.api.same_site): the
    actor is the name it tried, which is the attacker's account."""
    name = username if 0 < len(username) <= 64 else "(unknown)"
    entry = AuditEntry(
        Actor(name, None, "password", source),
        "csrf.refused",
        target,
        result="denied",
        detail=f"cross-site login: {why}",
    )
    context.auth.refusals.record("csrf", entry)


def role_refused(
    context: ApiContext, principal: Principal, needed: Role, source: str, target: str
) -> None:
    entry = AuditEntry(
        Actor(principal.username, principal.role.label, principal.via, source),
        "role.refused",
        target,
        result="denied",
        detail=f"needs the role {needed.label}; the caller is {principal.role.label}",
    )
    context.auth.refusals.record("role", entry)


def action_refused(context: ApiContext, actor: Actor, action: str, target: str, why: str) -> None:
    """An action refused as asked (an alarm not in a state that allows it, or unknown)."""
    entry = AuditEntry(actor, action, target, result="failed", detail=why)
    context.auth.refusals.record(action.split(".", 1)[0], entry)
