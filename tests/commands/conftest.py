"""A running gateway with its API, on a real database (both backends), polling a real Modbus
server on 127.0.0.1; users of each role; an httpx client per user.

`running_station(config_text, database_url)` starts it; `station.post(user, path, body)` and
`station.get(...)` call the API as that user.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from pstg.auth import passwords
from pstg.auth.users import add_user
from pstg.config.loader import load_config
from pstg.service.gateway import Gateway
from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade
from tests.poller.conftest import free_port

PASSWORD = "correct horse battery"
USERS = {"alice": "operator", "bob": "operator", "vera": "viewer", "erin": "engineer"}


@dataclass
class RunningStation:
    gateway: Gateway
    url: str
    _tokens: dict[str, str] = field(default_factory=dict)

    async def token(self, user: str) -> str:
        if user not in self._tokens:
            async with httpx.AsyncClient(base_url=self.url) as client:
                answer = await client.post(
                    "/api/v1/auth/token", data={"username": user, "password": PASSWORD}
                )
            assert answer.status_code == 200, answer.text
            self._tokens[user] = answer.json()["access_token"]
        return self._tokens[user]

    async def post(
        self, user: str, path: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {await self.token(user)}"}
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as client:
            return await client.post(f"/api/v1{path}", json=body or {}, headers=headers)

    async def get(self, user: str, path: str, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {await self.token(user)}"}
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as client:
            return await client.get(f"/api/v1{path}", params=params, headers=headers)

    async def command(
        self, user: str, tag: str, value: Any, comment: str = ""
    ) -> tuple[httpx.Response, httpx.Response | None]:
        """Select and, when that worked, operate: both answers."""
        selected = await self.post(user, "/commands", {"tag": tag, "value": value,
                                                       "comment": comment})  # fmt: skip
        if selected.status_code != 201:
            return selected, None
        operated = await self.post(user, f"/commands/{selected.json()['id']}/operate")
        return selected, operated

    async def reading(self, tag: str, until: Callable[[Any], bool], limit: float = 20.0) -> Any:
        """The live value of `tag` once `until(value)` holds (fails after `limit` s)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + limit
        while True:
            sample = self.gateway.live.get(tag)
            value = None if sample is None else sample.value
            if sample is not None and until(value):
                return value
            assert loop.time() < end, f"{tag} stayed at {value!r}"
            await asyncio.sleep(0.05)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@asynccontextmanager
async def running_station(
    folder: Path, config_text: str, database_url: str
) -> AsyncIterator[RunningStation]:
    """`config_text` (with `{database}` and `{api_port}` to fill in) running as a gateway."""
    api_port = free_port()
    path = folder / "station.yaml"
    path.write_text(config_text.format(database=database_url, api_port=api_port))
    engine = create_engine(database_url)
    upgrade(engine)
    for name, role in USERS.items():
        add_user(engine, name, PASSWORD, role)
    engine.dispose()
    gateway = Gateway(load_config(path), path)
    await gateway.start()
    try:
        yield RunningStation(gateway, f"http://127.0.0.1:{api_port}")
    finally:
        await gateway.stop()
