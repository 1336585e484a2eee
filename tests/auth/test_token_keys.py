"""Access tokens end with a new password and never come back to life for a user made anew
(issue 10, items 13 and 14); the password rules against the user's name and common
passwords; API tokens with a role of their own (item 22, API side)."""

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.api.app import create_app
from pstg.api.context import ApiContext
from pstg.auth.roles import Role
from pstg.auth.service import AuthError, AuthService
from pstg.auth.tables import api_tokens, users
from pstg.auth.users import UserError, add_user, create_api_token, set_password, set_role
from pstg.config.models import StationConfig
from pstg.metrics import Metrics
from tests.auth.conftest import PASSWORD, SECRET

pytestmark = pytest.mark.usefixtures("fast_hashing")
STATION = StationConfig.model_validate({"station": {"id": "ps-keys"}})


@pytest.fixture
def auth(engine: Engine) -> AuthService:
    add_user(engine, "root", PASSWORD, Role.ADMIN)
    return AuthService(engine, secret=SECRET)


def access_token(auth: AuthService, name: str, password: str = PASSWORD) -> str:
    return auth.issue_access_token(auth.login(name, password, source="127.0.2.1"))[0]


def test_a_new_password_ends_the_access_tokens_at_once(auth: AuthService) -> None:
    """Today an old access token works for 15 minutes after a password change."""
    add_user(auth.engine, "ann", PASSWORD, Role.OPERATOR)
    old = access_token(auth, "ann")
    assert auth.authenticate(old).username == "ann"
    set_role(auth.engine, "ann", Role.VIEWER)  # other changes leave the token working
    assert auth.authenticate(old).role is Role.VIEWER
    set_password(auth.engine, "ann", "a fresh secret")
    with pytest.raises(AuthError, match="no longer valid \\(the password changed\\)") as caught:
        auth.authenticate(old)
    assert caught.value.status == 401
    assert auth.authenticate(access_token(auth, "ann", "a fresh secret")).username == "ann"


def delete_user(engine: Engine, name: str) -> None:
    """What a database administrator might do: PSTG itself never deletes users."""
    with engine.begin() as connection:
        user_id = connection.execute(sa.select(users.c.id).where(users.c.name == name)).scalar_one()
        connection.execute(api_tokens.delete().where(api_tokens.c.user_id == user_id))
        connection.execute(users.delete().where(users.c.id == user_id))


def test_a_token_of_a_deleted_user_never_comes_back_to_life(auth: AuthService) -> None:
    """On SQLite a new user takes the deleted one's id: with the same name too, the old
    token was accepted again."""
    add_user(auth.engine, "ann", PASSWORD, Role.VIEWER)
    old = access_token(auth, "ann")
    before = auth.authenticate(old).user_id
    delete_user(auth.engine, "ann")
    with pytest.raises(AuthError):
        auth.authenticate(old)
    add_user(auth.engine, "ann", "another password", Role.ADMIN)
    with pytest.raises(AuthError) as caught:
        auth.authenticate(old)
    assert caught.value.status == 401
    fresh = auth.authenticate(access_token(auth, "ann", "another password"))
    if auth.engine.dialect.name == "sqlite":
        assert fresh.user_id == before  # the id did come back: the token key did not


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("root-password", "user name"),
        ("TOORtoor99", "user name"),
        ("Password123", "most common"),
        ("zzzzzzzzzz", "one character repeated"),
    ],
)
def test_weak_passwords_are_refused_for_users(
    auth: AuthService, password: str, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        set_password(auth.engine, "root", password)
    with pytest.raises(UserError, match=message):
        add_user(auth.engine, "toor", password, "viewer")


def test_an_api_token_role_caps_the_users(auth: AuthService) -> None:
    info, token = create_api_token(auth.engine, "root", "grafana", role=Role.VIEWER)
    assert info.role is Role.VIEWER
    assert auth.authenticate(token).role is Role.VIEWER
    add_user(auth.engine, "ops", PASSWORD, Role.OPERATOR)
    with pytest.raises(UserError, match="cannot have the role admin: 'ops' is operator"):
        create_api_token(auth.engine, "ops", "x", role=Role.ADMIN)
    _, engineer = create_api_token(auth.engine, "ops", "cron", role="operator")
    set_role(auth.engine, "ops", Role.VIEWER)  # demoted: the token follows down
    assert auth.authenticate(engineer).role is Role.VIEWER


@pytest.fixture
async def client(auth: AuthService) -> AsyncIterator[httpx.AsyncClient]:
    context = ApiContext(
        engine=auth.engine, config=STATION, station_id=0, tag_ids={}, auth=auth,
        metrics=Metrics(dict, lambda: None),
    )  # fmt: skip
    transport = httpx.ASGITransport(app=create_app(context))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


async def test_over_http(client: httpx.AsyncClient, auth: AuthService) -> None:
    admin = {"Authorization": f"Bearer {access_token(auth, 'root')}"}
    weak = await client.post(
        "/api/v1/users",
        headers=admin,
        json={"name": "ann", "password": "ann12345", "role": "viewer"},
    )
    assert weak.status_code == 422
    assert weak.json() == {"detail": "the password must not contain the user name"}

    created = await client.post(
        "/api/v1/tokens",
        headers=admin,
        json={"username": "root", "name": "grafana", "role": "viewer"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["role"] == "viewer"
    assert body["expires_at"] is not None  # 90 days by default
    machine = {"Authorization": f"Bearer {body['token']}"}
    assert (await client.get("/api/v1/auth/me", headers=machine)).json()["role"] == "viewer"
    assert (await client.get("/api/v1/users", headers=machine)).status_code == 403
    never = await client.post(
        "/api/v1/tokens",
        headers=admin,
        json={"username": "root", "name": "forever", "expires_in_days": None},
    )
    assert never.json()["expires_at"] is None
    assert never.json()["role"] is None

    changed = await client.patch(
        "/api/v1/users/root", headers=admin, json={"password": "a fresh secret"}
    )
    assert changed.status_code == 200
    gone = await client.get("/api/v1/auth/me", headers=admin)
    assert gone.status_code == 401
    assert "password changed" in gone.json()["detail"]
