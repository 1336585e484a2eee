"""The service end to end, as users run it: simulator -> `pstg run` -> the API, with a gap while
the station is offline; `pstg demo` as a newcomer uses it; `pstg health` in both modes."""

import asyncio
import re
import signal
from datetime import UTC, datetime, timedelta

import httpx

from pstg.auth.roles import Role
from pstg.auth.users import add_user
from pstg.simulator.process import StationDesign
from pstg.simulator.registers import RegisterMap
from pstg.simulator.runner import Simulator
from pstg.simulator.scenarios import parse_scenario
from pstg.simulator.seed import SeedOptions, seed_config_text
from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade
from tests.cli.conftest import pstg_executable, run_pstg
from tests.poller.conftest import free_port
from tests.simulator.conftest import options


async def start_pstg(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    """Start `pstg ARGS` and wait until it says it runs; returns the process and its output."""
    process = await asyncio.create_subprocess_exec(
        pstg_executable(), *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    seen = ""
    while "Ctrl-C to stop" not in seen:
        line = await asyncio.wait_for(process.stderr.readline(), 30)
        assert line, f"pstg {args[0]} ended early:\n{seen}"
        seen += line.decode()
    return process, seen


async def stop_pstg(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, err.decode()
    return err.decode()


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_simulator_to_run_to_trend_with_a_gap_while_offline(tmp_path) -> None:
    api_port = free_port()
    async with Simulator(options(speed=10, tick=0.05)) as simulator:
        config = tmp_path / "station.yaml"
        text = seed_config_text(SeedOptions(port=simulator.ports[0], api_port=api_port))
        config.write_text(text.replace("poll_interval: 1s", "poll_interval: 250ms"))
        engine = create_engine(f"sqlite:///{tmp_path / 'pstg.db'}")
        upgrade(engine)
        add_user(engine, "ops", "night-shift-1", Role.VIEWER)
        engine.dispose()
        process, _ = await start_pstg("run", "-c", str(config), "--quiet")
        base = f"http://127.0.0.1:{api_port}"
        try:
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                login = await client.post(
                    "/api/v1/auth/token", data={"username": "ops", "password": "night-shift-1"}
                )
                assert login.status_code == 200, login.text
                headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
                started = datetime.now(UTC)
                await asyncio.sleep(3)
                simulator.set_scenario(parse_scenario("offline:3s"))
                await asyncio.sleep(4.5)  # offline, then back
                await asyncio.sleep(3)
                ended = datetime.now(UTC)
                level = simulator.stations[0].level
                trend = await client.get(
                    "/api/v1/trends",
                    params={"tag": "wet_well.level", "from": iso(started),
                            "to": iso(ended), "points": 20},
                    headers=headers,
                )  # fmt: skip
                assert trend.status_code == 200, trend.text
                tags = await client.get("/api/v1/tags", headers=headers)
                health = await client.get("/api/v1/health")
                checked = await run_pstg("health", "-c", str(config))
        finally:
            log = await stop_pstg(process)
    buckets = trend.json()["buckets"]
    assert trend.json()["source"] == "raw"
    drawn = [b for b in buckets if not b["gap"]]
    gaps = [b for b in buckets if b["gap"]]
    assert len(drawn) >= 8, buckets
    assert gaps, "the offline period must show as a gap"
    assert all(abs(b["last"] - level) < 0.5 for b in drawn if b["last"] is not None)
    # The gap lies between drawn buckets: data before and after the outage.
    first_gap = buckets.index(gaps[0])
    assert not buckets[0]["gap"]
    assert any(not b["gap"] for b in buckets[first_gap:])
    latest = {tag["name"]: tag["latest"] for tag in tags.json()}
    assert latest["wet_well.level"]["quality"] == "good"
    assert health.json()["status"] == "ok"
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "status: ok" in checked.stdout
    assert "stopped:" in log


async def test_demo_gives_a_working_service_and_the_printed_credentials_work(tmp_path) -> None:
    api_port, simulator_port = free_port(), free_port()
    process, banner = await start_pstg(
        "demo", "--dir", str(tmp_path / "demo"), "--port", str(api_port),
        "--simulator-port", str(simulator_port), "--speed", "30",
    )  # fmt: skip
    try:
        # The banner follows the ready line.
        assert process.stderr is not None
        while "try:" not in banner:
            banner += (await asyncio.wait_for(process.stderr.readline(), 10)).decode()
        for _ in range(4):
            banner += (await asyncio.wait_for(process.stderr.readline(), 10)).decode()
        password = re.search(r"user: admin\s+password: (\S+)", banner)
        assert password, banner
        assert f"curl -s -X POST http://127.0.0.1:{api_port}/api/v1/auth/token" in banner
        await asyncio.sleep(2)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as client:
            login = await client.post(
                "/api/v1/auth/token", data={"username": "admin", "password": password[1]}
            )
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            tags = await client.get("/api/v1/tags", headers=headers)
            now = datetime.now(UTC)
            trend = await client.get(
                "/api/v1/trends",
                params={"tag": "wet_well.level", "from": iso(now - timedelta(minutes=15)),
                        "to": iso(now), "points": 30},
                headers=headers,
            )  # fmt: skip
    finally:
        await stop_pstg(process)
    assert len(tags.json()) == len(RegisterMap(StationDesign()).points)  # the seeded tags
    assert trend.status_code == 200
    assert any(not bucket["gap"] for bucket in trend.json()["buckets"])
    assert (tmp_path / "demo" / "station.yaml").exists()
    assert (tmp_path / "demo" / "pstg.db").exists()


async def test_health_checks_directly_when_no_service_answers(tmp_path) -> None:
    config = tmp_path / "station.yaml"
    config.write_text(seed_config_text(SeedOptions(port=free_port(), api_port=free_port())))
    missing = await run_pstg("health", "-c", str(config), "--json")
    assert missing.returncode == 1
    assert "no service answers" in missing.stdout
    assert "no PSTG schema yet" in missing.stdout
    assert "connection refused" in missing.stdout
