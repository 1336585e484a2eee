"""`pstg command` end to end: `pstg run` as a process polling a real Modbus server on
127.0.0.1, a user who logs in with `pstg login`, a set point commanded through the API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pstg.cli.control import OUTCOME_EXIT
from pstg.cli.errors import EXIT_CODES
from pstg.errors import Invalid
from pstg.model import RegisterTable
from tests.cli.conftest import run_pstg
from tests.poller.conftest import free_port
from tests.service.conftest import migrate, running, wait_until_serving
from tests.support.modbus_server import ModbusTestServer

PASSWORD = "correct horse battery"


def station_file(folder: Path, modbus_port: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "station.yaml"
    path.write_text(
        "station: {id: ps-cmd}\n"
        "storage: {url: 'sqlite:///pstg.db', spool: spool.db}\n"
        f"api: {{host: 127.0.0.1, port: {free_port()}}}\n"
        "devices:\n"
        "  - id: plc1\n"
        f"    port: {modbus_port}\n"
        "    poll_interval: 200ms\n"
        "    tags:\n"
        "      - name: sp\n"
        "        source: holding_register\n"
        "        address: 4\n"
        "        type: float32\n"
        "        writable: true\n"
        "        command:\n"
        "          min: 0\n"
        "          max: 20\n"
        "          role: operator\n"
        "          readback: {timeout: 20s, tolerance: 0.01}\n"
    )
    return path


@pytest.fixture(autouse=True)
def pstg_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("PSTG_HOME", str(home))
    monkeypatch.delenv("PSTG_TOKEN", raising=False)
    monkeypatch.delenv("PSTG_URL", raising=False)
    return home


async def test_a_set_point_is_commanded_and_a_refusal_explained(tmp_path: Path) -> None:
    async with ModbusTestServer() as server:
        config = station_file(tmp_path / "site", server.port)
        await migrate(config)
        added = await run_pstg("users", "add", "olga", "--role", "operator", "--password",
                               PASSWORD, "-c", str(config))  # fmt: skip
        assert added.returncode == 0, added.stderr
        async with running(config) as process:
            await wait_until_serving(process, config)
            login = await run_pstg("login", "-c", str(config), "-u", "olga", "--password-stdin",
                                   stdin=PASSWORD + "\n")  # fmt: skip
            assert login.returncode == 0, login.stderr

            done = await run_pstg("command", "sp", "12.5", "--yes", "-m", "test", "-c",
                                  str(config))  # fmt: skip
            assert done.returncode == 0, done.stderr
            steps = done.stdout.splitlines()
            assert steps[0].startswith("selected: command ")
            assert "sp = 12.5, expires at " in steps[0]
            assert steps[1] == "operating..."
            assert steps[2].startswith("confirmed: read back 12.5")
            assert len(steps) == 3
            assert await server.get_values(1, RegisterTable.HOLDING_REGISTER, 4, 2) == [
                0x4148,
                0x0000,
            ]  # 12.5 = 0x41480000, big-endian words by default

            refused = await run_pstg("command", "sp", "99", "--yes", "-c", str(config))
            assert refused.returncode == EXIT_CODES[Invalid]
            assert refused.stdout == ""
            assert refused.stderr.startswith("error: refused (range): ")
            assert len(refused.stderr.splitlines()) == 1

            server.refuse_writes = 3  # the PLC will not take it: illegal data value
            device = await run_pstg("command", "sp", "5", "--yes", "-c", str(config))
            assert device.returncode == OUTCOME_EXIT["device_refused"] == 5
            assert device.stdout.splitlines()[1:] == ["operating..."]
            assert "device_refused: " in device.stderr
            assert "Modbus exception 3" in device.stderr
            server.refuse_writes = None

            table = await run_pstg("command", "--list", "-c", str(config))
            assert table.returncode == 0, table.stderr
            rows = table.stdout.splitlines()
            assert rows[0].split()[:3] == ["id", "selected", "tag"]
            assert [row.split()[7] for row in rows[1:]] == [
                "device_refused", "refused", "confirmed",
            ]  # fmt: skip

            lines = await run_pstg("command", "--list", "--json", "--tag", "sp", "-c",
                                   str(config))  # fmt: skip
            journal = [json.loads(line) for line in lines.stdout.splitlines()]
            assert [(c["state"], c["value"], c["user"]) for c in journal] == [
                ("device_refused", 5, "olga"),
                ("refused", 99, "olga"),
                ("confirmed", 12.5, "olga"),
            ]
