"""/config: the running station config for engineers, secrets replaced by ***."""

from __future__ import annotations

from pstg.api.app import create_app
from pstg.auth.roles import Role
from pstg.config.models import StationConfig
from tests.api.conftest import STATION, Api, asgi_client, make_context


async def test_config_is_the_running_config(api: Api) -> None:
    response = await api.get_as(Role.ENGINEER, "/api/v1/config")
    assert response.status_code == 200
    assert StationConfig.model_validate(response.json()) == STATION


async def test_config_hides_secrets(api: Api) -> None:
    raw = STATION.model_dump(mode="json")
    raw["storage"]["url"] = (
        "postgresql://pstg:hunter2@127.0.0.1:5432/pstg?sslpassword=s3cret&sslmode=require"
    )
    raw["devices"][0]["options"] = {"api_key": "k1", "mode": "fast", "nested": {"Password": "p"}}
    context = make_context(api.engine, config=StationConfig.model_validate(raw))
    async with asgi_client(create_app(context)) as client:
        response = await client.get("/api/v1/config", headers=await api.headers(Role.ADMIN))
    assert response.status_code == 200
    body = response.json()
    assert "hunter2" not in response.text
    assert "s3cret" not in response.text
    assert body["storage"]["url"] == (
        "postgresql://pstg:***@127.0.0.1:5432/pstg?sslmode=require&sslpassword=***"
    )
    assert body["devices"][0]["options"] == {
        "api_key": "***",
        "mode": "fast",
        "nested": {"Password": "***"},
    }
