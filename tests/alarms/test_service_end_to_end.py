"""An operator sees, acknowledges and shelves the alarms of the simulator's pump-fault scenario
through the API of a running gateway, on both databases; every step is in the alarm journal,
the events and the audit log, and the states survive a restart."""

import asyncio
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from pstg.audit import verify
from pstg.auth.roles import Role
from pstg.auth.users import add_user
from pstg.config.loader import load_config
from pstg.service.gateway import Gateway
from pstg.simulator.runner import Simulator
from pstg.simulator.scenarios import parse_scenario
from pstg.simulator.seed import SeedOptions, seed_config_text
from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade
from tests.poller.conftest import free_port
from tests.simulator.conftest import options

ALARM = "pump1.tripped.discrete"
PASSWORD = "night-shift-1"


async def login(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": name, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def wait_for_alarm(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(100):
        listed = await client.get(
            "/api/v1/alarms", params={"state": "unacknowledged"}, headers=headers
        )
        found: list[dict[str, Any]] = [a for a in listed.json()["alarms"] if a["id"] == ALARM]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{ALARM} never became unacknowledged: {listed.json()}")


async def test_operator_acknowledges_and_shelves_a_simulated_pump_trip(
    database_url: str, tmp_path: Path
) -> None:
    engine = create_engine(database_url)
    upgrade(engine)
    add_user(engine, "ops", PASSWORD, Role.OPERATOR)
    add_user(engine, "eng", PASSWORD, Role.ENGINEER)
    api_port = free_port()
    async with Simulator(options(speed=5, tick=0.05)) as simulator:
        text = seed_config_text(
            SeedOptions(port=simulator.ports[0], api_port=api_port, database_url=database_url)
        )
        config_path = tmp_path / "station.yaml"
        config_path.write_text(text.replace("poll_interval: 1s", "poll_interval: 200ms"))
        config = load_config(config_path)
        gateway = Gateway(config, config_path)
        await gateway.start()
        try:
            simulator.set_scenario(parse_scenario("pump-fault"))
            simulator.stations[0].trip(1)  # now, rather than at its next start
            simulator.advance(1)
            async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as client:
                ops, eng = await login(client, "ops"), await login(client, "eng")
                alarm = await wait_for_alarm(client, ops)
                assert alarm["priority"] == "high"
                assert alarm["active"] is True
                viewer_refused = await client.post(f"/api/v1/alarms/{ALARM}/ack", json={})
                acked = await client.post(
                    f"/api/v1/alarms/{ALARM}/ack", json={"comment": "seen, calling the fitter"},
                    headers=ops,
                )  # fmt: skip
                again = await client.post(f"/api/v1/alarms/{ALARM}/ack", json={}, headers=ops)
                shelved = await client.post(
                    f"/api/v1/alarms/{ALARM}/shelve",
                    json={"comment": "fitter on site", "duration": "30m"},
                    headers=ops,
                )
                too_long = await client.post(
                    f"/api/v1/alarms/{ALARM}/shelve", json={"duration": "3d"}, headers=ops
                )
                await asyncio.sleep(1.0)  # the journal is written off the polling path
                history = await client.get(
                    "/api/v1/alarms", params={"state": "history", "from": "now-5m"}, headers=ops
                )
                audit = await client.get("/api/v1/audit", headers=eng)
                verified = await client.get("/api/v1/audit/verify", headers=eng)
                kpi = await client.get("/api/v1/alarms/kpi", params={"from": "now-1h"}, headers=ops)
        finally:
            await gateway.stop()
        assert viewer_refused.status_code == 401
        assert acked.status_code == 200, acked.text
        assert acked.json()["state"] == "acknowledged"
        assert again.status_code == 409
        assert shelved.status_code == 200, shelved.text
        assert shelved.json()["state"] == "shelved"
        assert too_long.status_code == 409
        steps = [
            (row["state"], row["user"], row["comment"])
            for row in reversed(history.json()["journal"])
            if row["alarm_id"] == ALARM
        ]
        assert steps[:3] == [
            ("unacknowledged", None, None),
            ("acknowledged", "ops", "seen, calling the fitter"),
            ("shelved", "ops", "fitter on site"),
        ]
        actions = {(entry["action"], entry["target"]) for entry in audit.json()["entries"]}
        assert {
            ("alarm.acknowledge", f"alarm:{ALARM}"),
            ("alarm.shelve", f"alarm:{ALARM}"),
        } <= actions
        assert verified.json()["ok"] is True
        assert kpi.json()["activations"] >= 1
        with engine.connect() as connection:
            kinds = set(connection.execute(sa.text("SELECT kind FROM events")).scalars())
        assert {"alarm", "service_started", "device_connected", "login_succeeded"} <= kinds
        assert verify(engine).ok

        # A restart brings the shelve back.
        restarted = Gateway(config, config_path, serve_api=False)
        await restarted.start()
        try:
            assert restarted.alarms is not None
            assert restarted.alarms.engine.get(ALARM).state.value == "shelved"
            assert restarted.alarms.engine.get(ALARM).shelved_by == "ops"
        finally:
            await restarted.stop()
    engine.dispose()


async def test_comm_loss_rises_while_the_simulated_station_is_offline(
    database_url: str, tmp_path: Path
) -> None:
    engine = create_engine(database_url)
    upgrade(engine)
    engine.dispose()
    async with Simulator(options(speed=5, tick=0.05)) as simulator:
        text = seed_config_text(SeedOptions(port=simulator.ports[0], database_url=database_url))
        text = text.replace("poll_interval: 1s", "poll_interval: 200ms").replace(
            "timeout: 1s", "timeout: 300ms\n    backoff_initial: 200ms\n    backoff_max: 500ms"
        )
        text = text.replace("kind: comm_loss, timeout: 30s", "kind: comm_loss, timeout: 1s")
        config_path = tmp_path / "station.yaml"
        config_path.write_text(text)
        gateway = Gateway(load_config(config_path), config_path, serve_api=False)
        await gateway.start()
        try:
            assert gateway.alarms is not None
            alarms = gateway.alarms.engine
            await asyncio.sleep(1.0)
            assert not alarms.get("plc1.comm_loss").active
            simulator.set_scenario(parse_scenario("offline:4s"))
            for _ in range(40):
                await asyncio.sleep(0.1)
                if alarms.get("plc1.comm_loss").active:
                    break
            raised = alarms.get("plc1.comm_loss")
            for _ in range(80):
                await asyncio.sleep(0.1)
                if not alarms.get("plc1.comm_loss").active:
                    break
            cleared = alarms.get("plc1.comm_loss")
        finally:
            await gateway.stop()
    assert raised.active
    assert raised.state.value == "unacknowledged"
    assert not cleared.active
    assert cleared.state.value == "returned_unacknowledged"  # waits for an operator's ack
