"""Users and API tokens, for admins: `/api/v1/users` and `/api/v1/tokens`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from pstg.api.context import ApiContext
from pstg.api.deps import get_context
from pstg.api.security import AdminPrincipal, actor_of, require
from pstg.audit import Actor
from pstg.auth import admin, users
from pstg.auth.roles import Role, RoleName
from pstg.model import utc_now

router = APIRouter(prefix="/api/v1", tags=["users"], dependencies=[Depends(require(Role.ADMIN))])
Context = Annotated[ApiContext, Depends(get_context)]
MAX_TOKEN_DAYS = 3650
DEFAULT_TOKEN_DAYS = 90


async def _acting_admin(request: Request, principal: AdminPrincipal) -> Actor:
    return actor_of(principal, request)


AdminActor = Annotated[Actor, Depends(_acting_admin)]
"""The admin making a change, for its audit row (pstg.auth.admin records it)."""


class UserOut(BaseModel):
    id: int
    name: str
    role: RoleName
    enabled: bool
    created_at: datetime
    last_login_at: datetime | None
    failed_logins: int = Field(description="Consecutive failed logins since the last success.")


class UserIn(BaseModel):
    name: str = Field(description="1 to 64 letters, digits, '_', '.' or '-'.")
    password: str = Field(
        description="8 to 1024 characters; not the name, not one character repeated, not a "
        "common password."
    )
    role: RoleName


class UserPatch(BaseModel):
    role: RoleName | None = None
    enabled: bool | None = Field(None, description="false: the user's tokens stop working at once.")
    password: str | None = Field(None, description="A new password; ends the user's access tokens.")


class ApiTokenOut(BaseModel):
    id: int
    username: str = Field(description="The user the token acts as, with that user's role.")
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="Recorded to the minute.")
    status: Literal["active", "revoked", "expired"]
    role: RoleName | None = Field(
        description="The token's own role (capped by its user's); null: the user's role."
    )


class NewApiTokenOut(ApiTokenOut):
    token: str = Field(description="The token itself: shown this once, stored only as a hash.")


class ApiTokenIn(BaseModel):
    username: str
    name: str = Field(description="What the token is for, e.g. grafana.")
    role: RoleName | None = Field(
        None, description="At most the user's role (e.g. viewer for Grafana); null: the user's."
    )
    expires_in_days: int | None = Field(
        DEFAULT_TOKEN_DAYS,
        ge=1,
        le=MAX_TOKEN_DAYS,
        description=f"Default {DEFAULT_TOKEN_DAYS}; null: the token does not expire.",
    )


def _user_out(user: users.UserInfo) -> UserOut:
    return UserOut(
        id=user.id,
        name=user.name,
        role=user.role.label,
        enabled=user.enabled,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        failed_logins=user.failed_logins,
    )


def _token_fields(token: users.ApiTokenInfo) -> dict[str, object]:
    return {
        "id": token.id,
        "username": token.username,
        "name": token.name,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "last_used_at": token.last_used_at,
        "status": token.status(utc_now()),
        "role": None if token.role is None else token.role.label,
    }


def _refused(error: users.UserError) -> HTTPException:
    if isinstance(error, users.UnknownUser | users.UnknownToken):
        return HTTPException(404, str(error))
    if isinstance(error, users.DuplicateUser):
        return HTTPException(409, str(error))
    return HTTPException(422, str(error))


# Plain `def` endpoints: FastAPI runs them in its thread pool (database, argon2).


@router.get("/users", response_model=list[UserOut])
def list_users(context: Context) -> list[UserOut]:
    """Every user, by name."""
    return [_user_out(user) for user in users.list_users(context.engine)]


@router.post("/users", status_code=201, response_model=UserOut)
def add_user(body: UserIn, context: Context, actor: AdminActor) -> UserOut:
    """Create an enabled user."""
    try:
        return _user_out(admin.add_user(context.engine, actor, body.name, body.password, body.role))
    except users.UserError as exc:
        raise _refused(exc) from None


@router.get("/users/{name}", response_model=UserOut)
def get_user(name: str, context: Context) -> UserOut:
    try:
        return _user_out(users.get_user(context.engine, name))
    except users.UserError as exc:
        raise _refused(exc) from None


@router.patch("/users/{name}", response_model=UserOut)
def update_user(name: str, body: UserPatch, context: Context, actor: AdminActor) -> UserOut:
    """Change role, enabled and/or password; a change applies to the user's next request."""
    try:
        return _user_out(
            admin.update_user(
                context.engine,
                actor,
                name,
                role=body.role,
                enabled=body.enabled,
                password=body.password,
            )
        )
    except users.UserError as exc:
        raise _refused(exc) from None


@router.get("/tokens", response_model=list[ApiTokenOut])
def list_tokens(
    context: Context,
    username: Annotated[str | None, Query(description="Only this user's tokens.")] = None,
) -> list[ApiTokenOut]:
    """API tokens (never the tokens themselves), oldest first."""
    try:
        tokens = users.list_api_tokens(context.engine, username)
    except users.UserError as exc:
        raise _refused(exc) from None
    return [ApiTokenOut.model_validate(_token_fields(token)) for token in tokens]


@router.post("/tokens", status_code=201, response_model=NewApiTokenOut)
def create_token(body: ApiTokenIn, context: Context, actor: AdminActor) -> NewApiTokenOut:
    """A new API token for a user; the response is the only time the token is shown."""
    expires_at = None
    if body.expires_in_days is not None:
        expires_at = utc_now() + timedelta(days=body.expires_in_days)
    try:
        info, plaintext = admin.create_api_token(
            context.engine, actor, body.username, body.name, expires_at, role=body.role
        )
    except users.UserError as exc:
        raise _refused(exc) from None
    return NewApiTokenOut.model_validate({**_token_fields(info), "token": plaintext})


@router.delete("/tokens/{token_id}", response_model=ApiTokenOut)
def revoke_token(token_id: int, context: Context, actor: AdminActor) -> ApiTokenOut:
    """Revoke an API token: it stops working at once."""
    try:
        return ApiTokenOut.model_validate(
            _token_fields(admin.revoke_api_token(context.engine, actor, token_id))
        )
    except users.UserError as exc:
        raise _refused(exc) from None
