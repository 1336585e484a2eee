"""Every error is JSON {"detail": "<what is wrong>"}; bugs are 500 "internal error"."""

from __future__ import annotations

from importlib.metadata import version

import httpx
import sqlalchemy as sa

from pstg.api.errors import describe_validation_errors
from pstg.auth.roles import Role
from tests.api.conftest import BASE_URL, Api


async def test_unknown_paths_and_methods(api: Api) -> None:
    response = await api.client.get("/api/v1/nothing")
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})
    response = await api.client.post("/api/v1/tags", headers=await api.headers())
    assert (response.status_code, response.json()) == (405, {"detail": "Method Not Allowed"})


async def test_an_unexpected_exception_is_a_bare_500(api: Api) -> None:
    def boom() -> None:
        raise RuntimeError("secret internals")

    api.app.add_api_route("/boom", boom)
    transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}


async def test_a_value_the_database_refuses_is_422(api: Api) -> None:
    def refused() -> None:
        raise sa.exc.DataError("SELECT", {}, ValueError("text fields cannot contain NUL"))

    api.app.add_api_route("/refused", refused)
    response = await api.client.get("/refused")
    assert response.status_code == 422
    assert response.json() == {
        "detail": "a value in the request is not valid (e.g. a NUL character)"
    }
    # e.g. a NUL in a user name on PostgreSQL
    response = await api.get_as(Role.ADMIN, "/api/v1/tokens", username="a\x00b")
    assert response.status_code in (404, 422)


async def test_body_errors_name_the_field_without_echoing_it(api: Api) -> None:
    headers = await api.headers(Role.ADMIN)
    response = await api.client.post(
        "/api/v1/users", json={"password": "hunter2hunter2", "role": 7}, headers=headers
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "body field 'name': is required" in detail
    assert "body field 'role': must be 'viewer', 'operator', 'engineer' or 'admin'" in detail
    assert "hunter2" not in detail
    response = await api.client.post(
        "/api/v1/users",
        content=b"{not json",
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("body: is not valid JSON (")


def test_describe_validation_errors() -> None:
    errors = [
        {"type": "missing", "loc": ("query", "tag"), "msg": "Field required", "input": None},
        {
            "type": "less_than_equal",
            "loc": ("query", "points"),
            "msg": "Input should be less than or equal to 5000",
            "input": "9000",
        },
        {"type": "value_error", "loc": ("path", "name"), "msg": "Value error, Bad name"},
        {"type": "string_too_short", "loc": ("body", "password"), "msg": "Too short", "input": "x"},
        {
            "type": "json_invalid",
            "loc": ("body", 1),
            "msg": "JSON decode error",
            "ctx": {"error": "Expecting property name enclosed in double quotes"},
        },
    ]
    assert describe_validation_errors(errors) == (
        "query parameter 'tag': is required; "
        "query parameter 'points': must be less than or equal to 5000, got '9000'; "
        "path parameter 'name': bad name; "
        "body field 'password': too short; "
        "body: is not valid JSON (Expecting property name enclosed in double quotes)"
    )
    assert describe_validation_errors([]) == "invalid request"


async def test_openapi_describes_every_response(api: Api) -> None:
    response = await api.client.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "PSTG"
    assert schema["info"]["version"] == version("pstg")
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            success = operation["responses"].get("200") or operation["responses"]["201"]
            content = success["content"]
            if path == "/metrics":
                assert "text/plain; version=0.0.4; charset=utf-8" in content
                continue
            if path == "/api/v1/stream":
                assert "text/event-stream" in content
                continue
            assert content["application/json"]["schema"], (method, path)
    components = schema["components"]["schemas"]
    for name in ["TrendOut", "BucketOut", "SeriesOut", "TagOut", "HealthOut", "EventsOut"]:
        assert name in components
    assert "from" in components["TrendOut"]["properties"]
    docs = await api.client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
