"""The whole way: the simulator's storm raises the seeded station's high level alarm in a
running gateway (real Modbus, real database), and its e-mail reaches a local SMTP server with
the station, tag, value, priority and a link to the console at the API's `/`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pstg.config.loader import load_config
from pstg.service.gateway import Gateway
from pstg.simulator.runner import Simulator
from pstg.simulator.scenarios import parse_scenario
from pstg.simulator.seed import SeedOptions, seed_config_text
from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade
from tests.notify.servers import start_smtp
from tests.poller.conftest import free_port
from tests.simulator.conftest import options

NOTIFICATIONS = """
notifications:
  email: {{host: 127.0.0.1, port: {port}, security: none, sender: pstg@localhost}}
  people: [{{name: oncall, email: oncall@localhost}}]
  routes: [{{name: urgent, priorities: [critical, high], levels: [{{to: [oncall]}}]}}]
"""


async def test_the_storms_high_level_alarm_is_mailed(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'pstg.db'}"
    engine = create_engine(database_url)
    upgrade(engine)
    engine.dispose()
    controller, mailbox = start_smtp()
    api_port = free_port()
    try:
        async with Simulator(options()) as simulator:  # frozen: the test moves its time
            text = seed_config_text(
                SeedOptions(port=simulator.ports[0], api_port=api_port, database_url=database_url)
            )
            text = text.replace("poll_interval: 1s", "poll_interval: 200ms")
            config_path = tmp_path / "station.yaml"
            config_path.write_text(text + NOTIFICATIONS.format(port=controller.port))
            gateway = Gateway(load_config(config_path), config_path, serve_api=False)
            await gateway.start()
            try:
                simulator.set_scenario(parse_scenario("storm"))
                simulator.advance(int(1000 / simulator.options.step))  # the level nears 3 m
                for _ in range(600):  # then a few simulated seconds per poll, until the mail
                    if any("Wet well level high" in m["Subject"] for m in mailbox.messages):
                        break
                    simulator.advance(int(2 / simulator.options.step))
                    await asyncio.sleep(0.1)
            finally:
                await gateway.stop()
    finally:
        controller.stop()
    mail = next(m for m in mailbox.messages if "Wet well level high" in m["Subject"])
    body = mail.get_content()
    assert mail["To"] == "oncall@localhost"
    assert "ALARM HIGH" in mail["Subject"]
    assert "Alarm:    wet_well.level.high" in body
    assert "Tag:      wet_well.level" in body
    assert "Priority: high" in body
    value = next(line for line in body.splitlines() if line.startswith("Value:"))
    assert float(value.split()[1]) >= 3.0
    assert f"Console: http://127.0.0.1:{api_port}/?alarm=wet_well.level.high" in body
    assert "Station:  " in body
