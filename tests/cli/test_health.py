"""`pstg health -c FILE` against a real API on 127.0.0.1: it reports the service only when the
service runs the config's station; another station's service on that port is an error."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn

from pstg.api.app import create_app
from pstg.cli.errors import EXIT_CODES
from pstg.errors import Conflict
from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade
from tests.api.conftest import STATION, make_context
from tests.cli.conftest import Completed, run_pstg


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[int]:
    """The API of station ps-01 served by uvicorn on a free port; yields the port."""
    engine = create_engine(f"sqlite:///{tmp_path / 'service.db'}")
    upgrade(engine)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(make_context(engine)), log_level="warning", lifespan="off", access_log=False
        )
    )
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        assert not serving.done(), "uvicorn ended before it started"
        await asyncio.sleep(0.01)
    yield listener.getsockname()[1]
    server.should_exit = True
    await serving
    listener.close()
    engine.dispose()


def config_for(tmp_path: Path, station_id: str, port: int) -> Path:
    path = tmp_path / f"{station_id}.yaml"
    path.write_text(
        f"station: {{id: {station_id}}}\n"
        "storage: {url: 'sqlite:///other.db'}\n"
        f"api: {{host: 127.0.0.1, port: {port}}}\n"
        "devices:\n"
        "  - {id: plc1, host: 127.0.0.1, port: 15020,\n"
        "     tags: [{name: t, source: coil, address: 0}]}\n"
    )
    return path


async def health(*args: str) -> Completed:
    # A process of its own: the service answers from this test's event loop meanwhile. (Typer's
    # CliRunner in a worker thread swaps sys.stdout under the running loop; it crashed the
    # test process now and then.)
    return await run_pstg("health", *args)


async def test_another_stations_service_is_not_reported_as_ours(service, tmp_path) -> None:
    assert STATION.station.id == "ps-01"
    other = config_for(tmp_path, "ps-02", service)
    result = await health("-c", str(other))
    assert result.returncode == EXIT_CODES[Conflict] == 11
    assert f"the service at http://127.0.0.1:{service} runs station 'ps-01', not 'ps-02'" in (
        result.stdout + result.stderr
    )
    assert "status: ok" not in result.stdout + result.stderr

    as_json = await health("-c", str(other), "--json")
    assert as_json.returncode == 11
    assert '"status": "wrong_station"' in as_json.stdout


async def test_the_configs_own_service_is_reported(service, tmp_path) -> None:
    own = config_for(tmp_path, "ps-01", service)
    result = await health("-c", str(own))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "status: ok" in result.stdout + result.stderr
    # --url without -c names no station to compare with: the service is reported as it is.
    other_url = await health("--url", f"http://127.0.0.1:{service}")
    assert other_url.returncode == 0, other_url.stdout + other_url.stderr
