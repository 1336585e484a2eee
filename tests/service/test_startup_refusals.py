"""`pstg run` (and `pstg demo`) refuse to start, with one line and a non-zero exit, when they
cannot do their job: the API's port taken (issue 10, item 3) or the station served already
(item 4)."""

import asyncio
import signal
import socket
import sqlite3

from tests.cli.conftest import run_pstg
from tests.poller.conftest import free_port
from tests.service.conftest import migrate, running, wait_until_serving, write_station


async def test_a_taken_api_port_is_one_line_and_a_non_zero_exit(modbus_server, tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        config = write_station(tmp_path, modbus_server.port, api_port=port)
        await migrate(config)
        result = await run_pstg("run", "-c", str(config), "--duration", "60", limit=120)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: 127.0.0.1:{port} is in use (api.port in {config})"]
    assert "Traceback" not in result.stderr
    assert modbus_server.request_count() == 0  # nothing polled: it never started


async def test_demo_with_a_taken_api_port_is_one_line_naming_its_port_option(tmp_path):
    # The demo writes its station.yaml itself at each start: the setting to change is --port,
    # not api.port in a file it would overwrite.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = await run_pstg(
            "demo", "--dir", str(tmp_path / "demo"), "--port", str(port),
            "--simulator-port", str(free_port()), "--duration", "60",
            limit=120,
        )  # fmt: skip
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: 127.0.0.1:{port} is in use (choose another with --port)"]
    assert "Traceback" not in result.stderr
    assert "PSTG demo: open the console" not in result.stderr  # it never served
    with sqlite3.connect(tmp_path / "demo" / "pstg.db") as db:
        assert db.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == 0  # nor polled


async def test_a_second_instance_on_the_same_station_refuses_naming_the_first(
    modbus_server, tmp_path
):
    first = write_station(tmp_path / "a", modbus_server.port)
    await migrate(first)
    # Another config file (another API port) pointing at the same database file.
    second = write_station(
        tmp_path / "b", modbus_server.port, storage=f"sqlite:///{tmp_path}/a/pstg.db"
    )
    async with running(first) as process:
        await wait_until_serving(process, first)
        result = await run_pstg("run", "-c", str(second), "--duration", "30", limit=120)
        assert result.returncode != 0
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, result.stderr
        assert f"station ps-test is already served by PID {process.pid} on" in errors[0]
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 60)
    assert process.returncode == 0
    # Once the first has stopped, the lock is free again.
    again = await run_pstg("run", "-c", str(second), "--duration", "0.5", limit=120)
    assert again.returncode == 0, again.stderr


async def test_a_second_instance_on_postgresql_refuses_through_an_advisory_lock(
    modbus_server, tmp_path, postgres_database
):
    postgres_database.reset()
    first = write_station(tmp_path / "a", modbus_server.port, storage=postgres_database.url)
    second = write_station(tmp_path / "b", modbus_server.port, storage=postgres_database.url)
    await migrate(first)
    async with running(first) as process:
        await wait_until_serving(process, first)
        result = await run_pstg("run", "-c", str(second), "--duration", "30", limit=120)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "station ps-test is already served by pstg: ps-test PID" in errors[0]
    assert f"PID {process.pid}" in errors[0]


async def test_another_station_in_the_same_postgresql_database_is_not_locked_out(
    modbus_server, tmp_path, postgres_database
):
    postgres_database.reset()
    first = write_station(tmp_path / "a", modbus_server.port, storage=postgres_database.url)
    other = write_station(
        tmp_path / "b", modbus_server.port, storage=postgres_database.url, station_id="ps-other"
    )
    await migrate(first)
    async with running(first) as process:
        await wait_until_serving(process, first)
        result = await run_pstg("run", "-c", str(other), "--duration", "0.5", limit=120)
    assert result.returncode == 0, result.stderr
