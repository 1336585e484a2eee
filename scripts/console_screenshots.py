"""Screenshots of the web console for the docs: docs/images/console-overview.png,
console-alarms.png and console-trend.png (1920 x 1080).

    uv run python scripts/console_screenshots.py [--out docs/images]

Runs what `pstg demo` runs (the simulator, SQLite in a temporary folder, the gateway with its
console) on free ports of 127.0.0.1, lets the simulated station run into a storm so that the
pictures show alarms, and drives Debian's Chromium (/usr/bin/chromium) with Playwright.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

from pstg.demo import prepare
from pstg.service.gateway import Gateway
from pstg.simulator.runner import Simulator, SimulatorOptions
from pstg.simulator.scenarios import parse_scenario
from pstg.station import load_station

CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        simulator = Simulator(SimulatorOptions(port=free_port(), speed=30.0, seed=1))
        await simulator.start()
        api_port = free_port()
        setup = prepare(Path(folder), api_port=api_port, simulator_port=simulator.ports[0])
        text = setup.config_path.read_text().replace("poll_interval: 1s", "poll_interval: 500ms")
        setup.config_path.write_text(text)
        gateway = Gateway(load_station(setup.config_path), setup.config_path)
        await gateway.start()
        base = f"http://127.0.0.1:{api_port}"
        try:
            await asyncio.sleep(20)  # some history for the trend
            simulator.set_scenario(parse_scenario("storm"))
            station = simulator.stations[0]
            while station.level < station.setpoints.high_level + 0.2:
                simulator.advance(10)
                await asyncio.sleep(0.05)
            await asyncio.sleep(15)  # the alarm's on-delay, and some storm on the trend
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM)
                page = await browser.new_page(viewport={"width": 1920, "height": 1080})
                await page.goto(base + "/login")
                await page.fill("#username", setup.username)
                await page.fill("#password", setup.password)
                await page.click("#login button[type=submit]")
                await page.wait_for_url(base + "/")
                await page.wait_for_selector("#link-state[data-state=up]")
                await page.wait_for_timeout(1500)
                await page.screenshot(path=str(out / "console-overview.png"))
                await page.goto(base + "/alarms")
                await page.wait_for_selector("#alarm-table tbody tr")
                await page.wait_for_timeout(1000)
                await page.screenshot(path=str(out / "console-alarms.png"))
                await page.goto(base + "/trends?tag=wet_well.level&tag=station.inflow"
                                "&tag=station.outflow&range=15m")  # fmt: skip
                await page.wait_for_function(
                    "() => Number(document.querySelector('#chart').dataset.draws) >= 1"
                )
                await page.wait_for_timeout(500)
                await page.screenshot(path=str(out / "console-trend.png"))
                await browser.close()
        finally:
            await gateway.stop()
            await simulator.stop()
    for name in ("console-overview.png", "console-alarms.png", "console-trend.png"):
        print(out / name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    folder = parser.parse_args().out
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(folder))
