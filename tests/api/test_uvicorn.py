"""The app behind a real uvicorn server on a free 127.0.0.1 port, over real HTTP."""

from __future__ import annotations

import asyncio
import socket

import httpx
import uvicorn

from tests.api.conftest import PASSWORD, Api


async def test_real_server(api: Api) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(api.app, log_level="warning", lifespan="off", access_log=False)
    )
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            health = await client.get("/api/v1/health")
            assert health.status_code == 200
            assert health.json()["database"]["ok"] is True

            login = await client.post(
                "/api/v1/auth/token", data={"username": "viewer", "password": PASSWORD}
            )
            assert login.status_code == 200
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            tags = await client.get("/api/v1/tags", headers=headers)
            assert tags.status_code == 200
            assert tags.headers["content-type"] == "application/json"
            assert len(tags.json()) == 5

            denied = await client.get("/api/v1/tags")
            assert denied.status_code == 401
            assert denied.headers["www-authenticate"] == "Bearer"

            metrics = await client.get("/metrics", headers=headers)
            assert 'route="/api/v1/tags",status="200"' in metrics.text
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
        listener.close()
