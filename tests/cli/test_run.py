"""`pstg run` as a user starts it: a real process polling a real server, stopped by a signal."""

import asyncio
import json
import re
import signal
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

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
    # The keys docs/architecture.md#the-log shows, and only those.
    documented = [
        json.loads(line) for line in ARCHITECTURE.read_text().splitlines() if line.startswith("{")
    ]
    assert documented
    assert {tuple(line) for line in lines} == {tuple(line) for line in documented}


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


ARCHITECTURE = Path(__file__).parents[2] / "docs" / "architecture.md"
"""Where the log's formats are documented (its section "The log")."""
TEXT_LINE = re.compile(
    r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?P<level>.{7}) (?P<logger>[a-z_][\w.]*): "
    r"(?P<message>.*)"
)
"""A line of `--log-format text`, as docs/architecture.md#the-log shows it: local time with
milliseconds, the level padded to 7, the logger, the message."""


def text_log(stderr: str) -> list[dict[str, str]]:
    """The log lines of `stderr` (the CLI's own lines, such as "polling ...", left out)."""
    found = (TEXT_LINE.fullmatch(line) for line in stderr.splitlines())
    return [{**line.groupdict(), "level": line["level"].rstrip()} for line in found if line]


async def run_one_up_one_down(folder, port, *args):
    """The text log of `pstg run --duration 1 ARGS` with plc1 up (on `port`) and plc2 down
    (nothing listens on its port)."""
    folder.mkdir()
    config = await migrated_config(folder, port)
    with config.open("a") as text:
        text.write(
            f"  - {{id: plc2, port: {free_port()}, poll_interval: 200ms,\n"
            "     tags: [{name: plc2.x, source: holding_register, address: 0}]}\n"
        )
    result = await run_pstg("run", "-c", str(config), "--duration", "1", *args)
    assert result.returncode == 0, result.stderr
    return text_log(result.stderr)


async def test_run_log_level_chooses_the_least_severity_logged(modbus_server, tmp_path):
    def has(lines, level, logger, start):
        return any(
            (line["level"], line["logger"]) == (level, logger) and line["message"].startswith(start)
            for line in lines
        )

    connected = "device_connected plc1: connected"
    lost = "device_disconnected plc2: connect_failed"
    retried = "plc2: connect_failed"  # each failed attempt of a device that stays down
    by_level = {
        level: await run_one_up_one_down(tmp_path / level, modbus_server.port, *args)
        for level, args in [
            ("warning", ["--log-level", "warning"]),
            ("default", []),
            ("debug", ["--log-level", "DEBUG"]),  # any case
        ]
    }
    warning, default, debug = by_level["warning"], by_level["default"], by_level["debug"]
    # warning: a device lost, not one connecting; nothing below WARNING at all.
    assert has(warning, "WARNING", "pstg.events", lost), warning
    assert not has(warning, "INFO", "pstg.events", connected), warning
    assert {line["level"] for line in warning} <= {"WARNING", "ERROR", "CRITICAL"}, warning
    # info, the default: devices connecting too, but no debug lines.
    assert has(default, "INFO", "pstg.events", connected), default
    assert has(default, "WARNING", "pstg.events", lost), default
    assert "DEBUG" not in {line["level"] for line in default}, default
    # debug: all that, and each failed attempt of the device that stays down.
    assert has(debug, "INFO", "pstg.events", connected), debug
    assert has(debug, "DEBUG", "pstg.poller.device_loop", retried), debug
    # Start-up's objects are left out of garbage collection once the service runs (pstg.heap).
    assert has(debug, "DEBUG", "pstg", "start-up objects left out of garbage collection"), debug
    assert len(debug) > len(default) > len(warning)

    refused = await run_pstg("run", "-c", "station.yaml", "--log-level", "loud")
    assert refused.returncode == 2
    assert "--log-level must be one of debug, info, warning, error, not 'loud'" in refused.stderr


async def test_run_log_format_text_writes_the_documented_lines(modbus_server, tmp_path):
    config = await migrated_config(tmp_path, modbus_server.port)
    result = await run_pstg("run", "-c", str(config), "--duration", "1", "--log-format", "text")
    assert result.returncode == 0, result.stderr
    lines = text_log(result.stderr)
    connected = [line for line in lines if line["message"] == "device_connected plc1: connected"]
    assert [(line["level"], line["logger"]) for line in connected] == [("INFO", "pstg.events")]
    # Local time, to the millisecond, within the run.
    ts = datetime.strptime(connected[0]["ts"], "%Y-%m-%d %H:%M:%S,%f")
    assert abs(datetime.now() - ts) < timedelta(minutes=5)
    # Nothing else in between: every line is a log line or one of the command's own.
    own = ("polling ", "stopping:", "stopped:")
    others = [
        line
        for line in result.stderr.splitlines()
        if not TEXT_LINE.fullmatch(line) and not line.startswith(own)
    ]
    assert others == [], result.stderr
    assert not any(line.startswith("{") for line in result.stderr.splitlines())
    # The documentation shows lines of this very shape.
    examples = [line for line in ARCHITECTURE.read_text().splitlines() if TEXT_LINE.search(line)]
    assert examples
    assert all(TEXT_LINE.fullmatch(line) for line in examples), examples

    refused = await run_pstg("run", "-c", str(config), "--log-format", "xml")
    assert refused.returncode == 2
    assert "--log-format must be text or json, not 'xml'" in refused.stderr
