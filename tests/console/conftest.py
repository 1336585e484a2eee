"""The web console in a real browser: Debian's Chromium (/usr/bin/chromium, installed by
`.ci/run` when missing) driven by Playwright, against a real gateway polling the pump station
simulator on 127.0.0.1, on SQLite.

One simulator and gateway serve the whole session and one browser each test module (they
take seconds to start); each test gets fresh browser contexts (its own cookies). The
simulator and the gateway run in an event loop of their own in a thread, so that the tests
can use Playwright's plain (sync) API; `station.call(fn)` runs a function in that loop (the
simulator is not thread-safe).

The station has a `notifications:` section: e-mail to a real SMTP server (aiosmtpd, as in
tests/notify) and a webhook to a port where nothing listens, so that its deliveries fail.

Every page a test opens is watched: a console error (a failed request the test expects
aside), an uncaught exception, or a request to any host but the gateway fails the test.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher

from pstg.auth import passwords
from pstg.auth.users import add_user
from pstg.config.loader import load_config
from pstg.service.gateway import Gateway
from pstg.simulator.runner import Simulator, SimulatorOptions
from pstg.simulator.scenarios import parse_scenario
from pstg.simulator.seed import SeedOptions, seed_config_text
from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade
from tests.notify.servers import Mailbox, free_tcp_port, start_smtp
from tests.poller.conftest import free_port

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery"
USERS = {"alice": "operator", "vera": "viewer", "erin": "engineer", "ada": "admin"}
POLL = "200ms"
SPEED = 10.0
"""Simulated seconds per second: the level visibly moves; the storm is advanced by hand."""
T = TypeVar("T")


@dataclass
class Station:
    """The running simulator and gateway, and their event loop."""

    url: str
    loop: asyncio.AbstractEventLoop
    simulator: Simulator
    gateway: Gateway
    mailbox: Mailbox
    """What the station's SMTP server received."""

    def call(self, function: Callable[[], T]) -> T:
        """Run `function` in the station's loop and return its result."""
        done: Future[T] = Future()

        def run() -> None:
            try:
                done.set_result(function())
            except BaseException as exc:  # handed to the caller
                done.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return done.result(timeout=60)

    def scenario(self, text: str) -> None:
        self.call(lambda: self.simulator.set_scenario(parse_scenario(text)))

    def live(self, tag: str) -> Any:
        sample = self.call(lambda: self.gateway.live.get(tag))
        return None if sample is None else sample.value


NOTIFICATIONS = """
notifications:
  email: {{host: 127.0.0.1, port: {smtp}, security: none, sender: "PSTG <pstg@localhost>"}}
  webhooks:
    - {{name: pager, url: "http://127.0.0.1:{dead}/page"}}
  people:
    - {{name: alice, email: alice@localhost}}
    - {{name: dora, phone: "+1 555 0104", via: [pager]}}
  groups:
    - {{name: operators, members: [alice, dora]}}
  retry: {{attempts: 1}}
"""
"""alice is reached by e-mail; dora only by the pager webhook, where nothing listens."""


def seeded_config(simulator_port: int, api_port: int, database: str, smtp_port: int) -> str:
    text = seed_config_text(
        SeedOptions(port=simulator_port, database_url=database, api_port=api_port)
    )
    assert "poll_interval: 1s" in text
    text = text.replace("poll_interval: 1s", f"poll_interval: {POLL}")
    return text + NOTIFICATIONS.format(smtp=smtp_port, dead=free_tcp_port())


@pytest.fixture(scope="session")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    hasher = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    folder = tmp_path_factory.mktemp("console")
    database = f"sqlite:///{folder / 'pstg.db'}"
    loop = asyncio.new_event_loop()
    ready: Future[Station] = Future()
    stop = asyncio.Event()
    smtp, mailbox = start_smtp()

    async def main() -> None:
        try:
            simulator = Simulator(SimulatorOptions(port=0, speed=SPEED, seed=1))
            await simulator.start()
            api_port = free_port()
            path = folder / "station.yaml"
            path.write_text(seeded_config(simulator.ports[0], api_port, database, smtp.port))
            engine = create_engine(database)
            upgrade(engine)
            for name, role in USERS.items():
                add_user(engine, name, PASSWORD, role)
            engine.dispose()
            gateway = Gateway(load_config(path), path)
            await gateway.start()
        except BaseException as exc:
            ready.set_exception(exc)
            raise
        url = f"http://127.0.0.1:{api_port}"
        ready.set_result(Station(url, loop, simulator, gateway, mailbox))
        await stop.wait()
        await gateway.stop()
        await simulator.stop()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        up = ready.result(timeout=60)
        yield up
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=60)
        smtp.stop()
        passwords._hasher = hasher


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module-scoped: Playwright's sync API marks an event loop as running in this thread
    # while it is open, which the asyncio tests of other folders cannot run beside.
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@dataclass
class Watch:
    """What the pages of one test did wrong."""

    origin: str
    problems: list[str] = field(default_factory=list)
    expected_statuses: set[int] = field(default_factory=set)
    """Failed requests a test causes on purpose (a refusal), which Chromium logs as errors."""
    paths: list[str] = field(default_factory=list)
    """The path of every request the pages made, in order."""

    def page(self, page: Any) -> Any:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on("request", self._request)
        return page

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        for status in self.expected_statuses:
            if f"the server responded with a status of {status}" in text:
                return
        self.problems.append(f"console error: {text} at {message.location}")

    def _request(self, request: Any) -> None:
        url = request.url
        if url.startswith(("data:", "blob:")):
            return
        parts = urlsplit(url)
        self.paths.append(parts.path)
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.problems.append(f"request to another host: {request.method} {url}")


@dataclass
class Console:
    """Opens logged-in pages for a test."""

    station: Station
    browser: Any
    watch: Watch
    contexts: list[Any] = field(default_factory=list)

    def open(self, user: str, path: str = "/", *, width: int = 1920, height: int = 1080) -> Any:
        context = self.browser.new_context(viewport={"width": width, "height": height})
        self.contexts.append(context)
        page = self.watch.page(context.new_page())
        page.set_default_timeout(30_000)
        page.goto(self.station.url + path)
        page.wait_for_url("**/login**")
        page.fill("#username", user)
        page.fill("#password", PASSWORD)
        page.click("#login button[type=submit]")
        page.wait_for_url(self.station.url + path)
        page.wait_for_selector("#link-state[data-state=up]")
        page.wait_for_selector("body[data-ready]", state="attached")  # handlers bound
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def console(station: Station, browser: Any) -> Iterator[Console]:
    watch = Watch(station.url)
    opened = Console(station, browser, watch)
    try:
        yield opened
    finally:
        opened.close()
    assert not watch.problems, "\n".join(watch.problems)
