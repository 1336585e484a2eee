"""`pstg run` as a user starts it: a real process polling a real server, stopped by a signal."""

import asyncio
import json
import signal
import sqlite3

from pstg.model import RegisterTable
from pstg.storage.database import create_engine
from tests.cli.conftest import pstg_executable, run_pstg
from tests.poller.conftest import free_port


def write_config(tmp_path, port, storage="sqlite:///pstg.db", **device):
    fields = "".join(f"    {key}: {value}\n" for key, value in device.items())
    path = tmp_path / "station.yaml"
    path.write_text(
        "station: {id: ps-test}\n"
        f"storage: {{url: '{storage}'}}\n"
        f"api: {{port: {free_port()}}}\n"
        "devices:\n"
        "  - id: plc1\n"
        "    host: 127.0.0.1\n"
        f"    port: {port}\n"
        "    poll_interval: 200ms\n"
        f"{fields}"
        "    tags:\n"
        "      - {name: wet_well.level, source: holding_register, address: 0, scale: 0.01}\n"
    )
    return path


async def migrated_config(tmp_path, port, storage="sqlite:///pstg.db", **device):
    config = write_config(tmp_path, port, storage, **device)
    migrated = await run_pstg("migrate", "-c", str(config))
    assert migrated.returncode == 0, migrated.stderr
    return config


async def test_run_polls_stores_and_logs_samples_until_the_duration_ends(modbus_server, tmp_path):
    await modbus_server.set_values(1, RegisterTable.HOLDING_REGISTER, 0, [321])
    config = await migrated_config(tmp_path, modbus_server.port)
    result = await run_pstg("run", "-c", str(config), "--duration", "1", "--log-samples")
    assert result.returncode == 0, result.stderr
    assert "wet_well.level=3.21 good" in result.stderr
    assert "INFO    pstg.events: device_connected plc1: connected" in result.stderr
    assert modbus_server.request_count(1, 3) >= 3
    # The database sits beside the config (a relative SQLite path is relative to the file).
    with sqlite3.connect(tmp_path / "pstg.db") as db:
        values = db.execute("SELECT value, quality, reason FROM samples ORDER BY ts").fetchall()
        kinds = db.execute("SELECT kind FROM events").fetchall()
    # Unchanged afterwards: stored once (report by exception); then the stop marker.
    assert values == [(3.21, 0, 0), (None, 2, 9)]
    for kind in ("device_connected", "config_loaded", "service_started", "service_stopped"):
        assert (kind,) in kinds
    assert "2 sample(s) stored" in result.stderr


async def test_run_logs_events_but_not_readings_by_default(modbus_server, tmp_path):
    config = await migrated_config(tmp_path, modbus_server.port)
    result = await run_pstg("run", "-c", str(config), "--duration", "1", "--log-format", "json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    connected = [line for line in lines if line["message"].startswith("device_connected plc1")]
    assert connected, result.stderr
    assert connected[0]["level"] == "info"
    assert connected[0]["logger"] == "pstg.events"
    assert not any("wet_well.level=" in line["message"] for line in lines)


async def test_run_stores_into_postgresql_when_the_url_says_so(
    modbus_server, tmp_path, postgres_database
):
    postgres_database.reset()
    await modbus_server.set_values(1, RegisterTable.HOLDING_REGISTER, 0, [455])
    config = await migrated_config(tmp_path, modbus_server.port, postgres_database.url)
    result = await run_pstg("run", "-c", str(config), "--duration", "1")
    assert result.returncode == 0, result.stderr
    engine = create_engine(postgres_database.url)
    with engine.connect() as connection:
        values = connection.exec_driver_sql("SELECT value, quality FROM samples ORDER BY ts").all()
    engine.dispose()
    assert [tuple(row) for row in values] == [(4.55, 0), (None, 2)]  # a value, the stop marker
    assert not (tmp_path / "pstg.db").exists()


async def test_run_refuses_a_database_without_the_schema(modbus_server, tmp_path):
    config = write_config(tmp_path, modbus_server.port)
    result = await run_pstg("run", "-c", str(config), "--duration", "1")
    assert result.returncode == 11  # a conflict: the database's state (pstg.cli.errors)
    assert (
        f"has no PSTG schema yet: run `pstg migrate -c {config}` first, "
        f"or start with `pstg run -c {config} --migrate`"
    ) in result.stderr
    assert modbus_server.request_count() == 0


async def test_run_stops_cleanly_on_sigterm(modbus_server, tmp_path):
    config = await migrated_config(tmp_path, modbus_server.port)
    process = await asyncio.create_subprocess_exec(
        pstg_executable(),
        "run",
        "-c",
        str(config),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    seen = b""
    while b"Ctrl-C to stop" not in seen:  # running, signal handlers in place
        line = await asyncio.wait_for(process.stderr.readline(), 20)
        assert line, "pstg run ended before it started polling"
        seen += line
    await asyncio.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 0, err.decode()
    assert "stopped:" in err.decode()
    with sqlite3.connect(tmp_path / "pstg.db") as db:
        assert db.execute("SELECT COUNT(*) FROM samples").fetchone()[0] >= 1  # flushed at exit


async def test_run_refuses_an_invalid_config(tmp_path):
    config = write_config(tmp_path, 502, poll_interval_typo="1s")
    result = await run_pstg("run", "-c", str(config))
    assert result.returncode == 2  # invalid input (pstg.cli.errors)
    assert "station.yaml:9 devices[0]: unknown key 'poll_interval_typo'" in result.stderr
    assert "nothing started" in result.stderr
