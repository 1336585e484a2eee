"""`pstg simulate` and `pstg seed` as a user runs them: the seeded config, polled by `pstg run`
and `pstg poll` against a simulator process, gives sensible values."""

import asyncio
import re
import signal

from pstg.config.loader import load_config
from tests.cli.conftest import pstg_executable, run_pstg
from tests.poller.conftest import free_port


async def start_simulator(port: int, *args: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        pstg_executable(), "simulate", "--port", str(port), *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    while line := await asyncio.wait_for(process.stderr.readline(), 20):
        if b"Ctrl-C to stop" in line:
            return process
    raise AssertionError("the simulator did not start")


async def stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 0, err.decode()
    return err.decode()


async def test_seed_then_run_against_the_simulator_gives_sensible_values(tmp_path):
    port = free_port()
    seeded = await run_pstg("seed", "-o", str(tmp_path), "--port", str(port))
    assert seeded.returncode == 0, seeded.stderr
    config = tmp_path / "station.yaml"
    assert load_config(config).devices[0].port == port
    migrated = await run_pstg("migrate", "-c", str(config))
    assert migrated.returncode == 0, migrated.stderr
    simulator = await start_simulator(port, "--speed", "30", "--start", "2026-03-02T08:00Z")
    try:
        result = await run_pstg(
            "run", "-c", str(config), "--duration", "2.5", "--no-api", "--log-samples"
        )
    finally:
        await stop(simulator)
    assert result.returncode == 0, result.stderr
    values = dict(re.findall(r" (\S+)=(\S+) good", result.stderr))
    assert 0.5 < float(values["wet_well.level"]) < 3.0
    assert "station.name=Lift Station 1 good" in result.stderr
    assert values["station.mains_ok"] == "1.0"
    assert 2.0 <= float(values["pump1.hoa"]) <= 2.0  # every selector in Auto
    assert float(values["setpoint.lead_start"]) == 1.8
    assert 0 < float(values["station.inflow"]) < 100  # l/s, a morning peak of dry weather
    assert 1.0 < float(values["station.discharge_pressure"]) < 3.5  # bar
    # Only the end-of-data markers of the clean stop are bad; nothing read was.
    bad = [line for line in result.stderr.splitlines() if " bad" in line]
    assert bad
    assert all(line.endswith("bad (stopped)") for line in bad), bad


async def test_poll_reads_the_level_and_the_scenario_switches_by_control_file(tmp_path):
    port = free_port()
    control = tmp_path / "scenario"
    simulator = await start_simulator(port, "--control-file", str(control), "--seed", "3")
    try:
        result = await run_pstg(
            "poll", f"127.0.0.1:{port}", "--source", "input_register", "--address", "0",
            "--count", "2", "--type", "float32", "--word-order", "big",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        level = float(re.findall(r"ABCD \(word big, byte big\) │\s+(\S+)", result.stdout)[0])
        assert 0 < level < 5
        control.write_text("power-failure\n")
        await asyncio.sleep(1.5)
        contact = await run_pstg(
            "poll", f"127.0.0.1:{port}", "--source", "discrete_input", "--count", "1"
        )
        assert contact.returncode == 0, contact.stderr
    finally:
        log = await stop(simulator)
    assert "scenario: power-failure" in log
    assert re.search(r"│\s+0 │\s+0 │", contact.stdout), contact.stdout  # mains lost


async def test_simulate_refuses_a_bad_scenario_and_a_taken_port():
    bad = await run_pstg("simulate", "--scenario", "tornado")
    assert bad.returncode == 2  # invalid input
    assert "unknown scenario 'tornado'" in bad.stderr
    port = free_port()
    first = await start_simulator(port)
    try:
        taken = await run_pstg("simulate", "--port", str(port))
    finally:
        await stop(first)
    assert taken.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in taken.stderr


async def test_seed_never_overwrites_without_force(tmp_path):
    target = tmp_path / "station.yaml"
    target.write_text("mine\n")
    refused = await run_pstg("seed", "-o", str(target))
    assert refused.returncode == 11  # a conflict with what is there
    assert "exists; use --force" in refused.stderr
    assert target.read_text() == "mine\n"
    forced = await run_pstg("seed", "-o", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert target.read_text().startswith("# PSTG station config")


async def test_seed_with_admin_prepares_the_database_and_the_first_user(tmp_path):
    config = tmp_path / "station.yaml"
    seeded = await run_pstg("seed", "-o", str(config), "--admin", "boss")
    assert seeded.returncode == 0, seeded.stderr
    password = re.search(r"password for boss: (\S+)", seeded.stderr)
    assert password, seeded.stderr
    listed = await run_pstg("users", "list", "-c", str(config))
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"boss\s+admin\s+yes", listed.stdout)
    again = await run_pstg("seed", "-o", str(config), "--force", "--admin", "boss")
    assert again.returncode == 1
    assert "boss" in again.stderr
