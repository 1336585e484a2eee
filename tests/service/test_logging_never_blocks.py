"""Issue 10, item 5: a log reader that does not keep up must never freeze the gateway.

`pstg run --log-samples` writes thousands of lines a second here, into a pipe nobody reads.
The pipe fills within a second; the service must go on polling on schedule and answering its
API, and say afterwards how many log lines it had to drop.
"""

import asyncio
import itertools
from datetime import datetime

import httpx

from pstg.auth.roles import Role
from pstg.auth.users import add_user
from pstg.storage.database import create_engine
from tests.service.conftest import (
    api_port_of,
    health,
    migrate,
    running,
    wait_until_serving,
    write_station,
)
from tests.support.poll_schedule import (
    DEVICE,
    assert_kept_schedule,
    read_counters,
    wait_until_polling,
)

PASSWORD = "correct horse battery"
POLL_INTERVAL = 0.2
"""An overrun takes a cycle a whole interval late: 0.2 s is far beyond what a busy shared
machine alone delays a process by."""
TAGS = 400
"""A log line per tag and cycle with --log-samples: 2000 lines a second."""
UNREAD = 8
"""Seconds polling is watched while nobody reads the log."""


async def test_polling_keeps_its_schedule_and_the_api_answers_while_nobody_reads_the_log(
    modbus_server, tmp_path
):
    """`pstg run --log-samples` polls 400 tags every 0.2 s (2000 log lines a second) with its
    stderr a pipe nobody reads. Once the pipe is full, for 8 s: /health answers every second
    with a newer successful poll, and the poller's own counters (GET /api/v1/devices) show
    no overrun, no skipped tick and about as many cycles as the interval says. At the stop it
    says how many log lines it dropped."""
    config = write_station(
        tmp_path, modbus_server.port, poll_interval=f"{round(POLL_INTERVAL * 1000)}ms", tags=TAGS
    )
    await migrate(config)
    engine = create_engine(f"sqlite:///{tmp_path / 'pstg.db'}")
    add_user(engine, "watcher", PASSWORD, Role.VIEWER)  # reads the poll counters
    engine.dispose()
    base_url = f"http://127.0.0.1:{api_port_of(config)}"
    async with (
        running(config, "--log-samples") as process,  # stderr: a pipe, unread
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
    ):
        await wait_until_serving(process, config)
        token = await client.post(
            "/api/v1/auth/token", data={"username": "watcher", "password": PASSWORD}
        )
        assert token.status_code == 200, token.text
        watcher = {"Authorization": f"Bearer {token.json()['access_token']}"}
        await wait_until_polling(client, watcher)
        await asyncio.sleep(1.0)  # the pipe is full by now: every log line waits or is dropped
        before = await read_counters(client, watcher, DEVICE)
        successes = []
        for _ in range(UNREAD):
            await asyncio.sleep(1.0)
            status, body = await health(config, wait=10)
            assert status == 200, body
            successes.append(datetime.fromisoformat(body["devices"][0]["last_success_at"]))
        after = await read_counters(client, watcher, DEVICE)
        # Every answer saw a newer successful poll than the one before ...
        assert all(a < b for a, b in itertools.pairwise(successes)), successes
        # ... and the poller kept its schedule all along.
        print(assert_kept_schedule(before, after, POLL_INTERVAL))
        assert process.stderr is not None
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 120)
    text = err.decode()
    assert process.returncode == 0, text[-2000:]
    assert "log record(s) dropped: the log output could not keep up" in text
