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


SECRET_KEYS = [
    "pwd", "password", "Passwd", "PASSWORD", "auth", "Authorization", "pin", "PIN", "user_pin",
    "pinCode", "token", "authToken", "secret", "client_secret", "key", "apikey", "api_key",
    "x-api-key", "ApiKey", "credential", "credentials", "private_key", "passphrase",
]  # fmt: skip
PLAIN_KEYS = ["mode", "ping_interval", "spindle", "retries", "baud", "host"]


async def test_config_hides_secret_options_by_pattern_at_any_depth(api: Api) -> None:
    """Issue 10 item 8: every secret-looking key, in dicts and lists at any depth."""
    leaf = {key: f"s3cret-{n}" for n, key in enumerate(SECRET_KEYS)}
    plain = {key: f"plain-{n}" for n, key in enumerate(PLAIN_KEYS)}
    raw = STATION.model_dump(mode="json")
    raw["devices"][0]["options"] = {
        **leaf,
        **plain,
        "gateway": {"deeper": [{"list": [leaf | plain]}], **leaf},
        "broker": "mqtt://station:s3cret-url@127.0.0.1:1883",
    }
    context = make_context(api.engine, config=StationConfig.model_validate(raw))
    async with asgi_client(create_app(context)) as client:
        response = await client.get("/api/v1/config", headers=await api.headers(Role.ENGINEER))
    assert response.status_code == 200
    assert "s3cret" not in response.text
    options = response.json()["devices"][0]["options"]
    for shown in (options, options["gateway"]["deeper"][0]["list"][0]):
        assert {key: shown[key] for key in SECRET_KEYS} == dict.fromkeys(SECRET_KEYS, "***")
        assert {key: shown[key] for key in PLAIN_KEYS} == plain
    assert options["broker"] == "mqtt://station:***@127.0.0.1:1883"
