"""Helpers for tests of the running service: a station file, `pstg run` as a process, and
waiting for it through its API."""

import asyncio
import json
import os
import signal
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from tests.cli.conftest import pstg_executable, run_pstg
from tests.poller.conftest import free_port

STOP_LIMIT = 60.0
"""Seconds a killed `pstg run` may take to be gone (a bound, not a measurement)."""


def write_station(
    folder: Path,
    modbus_port: int,
    *,
    storage: str = "sqlite:///pstg.db",
    station_id: str = "ps-test",
    api_port: int | None = None,
    poll_interval: str = "200ms",
    tags: int = 1,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "station.yaml"
    tag_lines = "".join(
        f"      - {{name: t{n}, source: holding_register, address: {n}}}\n" for n in range(tags)
    )
    path.write_text(
        f"station: {{id: {station_id}}}\n"
        f"storage: {{url: '{storage}', spool: spool.db}}\n"
        f"api: {{port: {api_port or free_port()}}}\n"
        "devices:\n"
        "  - id: plc1\n"
        f"    port: {modbus_port}\n"
        f"    poll_interval: {poll_interval}\n"
        "    tags:\n" + tag_lines
    )
    return path


async def migrate(config: Path) -> None:
    result = await run_pstg("migrate", "-c", str(config), limit=120)
    assert result.returncode == 0, result.stderr


def api_port_of(config: Path) -> int:
    for line in config.read_text().splitlines():
        if line.startswith("api:"):
            return int(line.split("port:")[1].strip(" }"))
    raise AssertionError("no api line")


def get_json(url: str, timeout: float = 5.0) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def health(config: Path, wait: float = 5.0) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{api_port_of(config)}/api/v1/health"
    return await asyncio.to_thread(get_json, url, wait)


async def wait_until_serving(process: asyncio.subprocess.Process, config: Path, limit: float = 90):
    """Until the service answers /health (or the process ends, which fails the test)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while loop.time() < end:
        assert process.returncode is None, "pstg run ended before it served"
        with suppress(OSError):
            await health(config, wait=2)
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"pstg run did not serve within {limit} s")


@asynccontextmanager
async def running(
    config: Path, *args: str, stderr: int | None = asyncio.subprocess.PIPE
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`pstg run -c config ARGS` as a process; killed at exit if still running."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    process = await asyncio.create_subprocess_exec(
        pstg_executable(), "run", "-c", str(config), *args,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=stderr, env=env,
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
            # communicate(), not wait(): asyncio stops reading a pipe nobody reads once its
            # buffer is full, and (Python 3.11) wait() returns only after every pipe has seen
            # its end, so after a failure with the log unread, wait() would never return.
            await asyncio.wait_for(process.communicate(), STOP_LIMIT)


async def wait_until(condition: Callable[[], bool], limit: float = 60.0, what: str = "") -> None:
    """Check `condition` every 0.1 s until it holds; fail after `limit` seconds."""
    for _ in range(int(limit * 10)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {limit} s: {what or condition}")
