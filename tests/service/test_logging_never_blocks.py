"""Issue 10, item 5: a log reader that does not keep up must never freeze the gateway.

`pstg run --log-samples` writes thousands of lines a second here, into a pipe nobody reads.
The pipe fills within a second; the service must go on polling and answering its API, and say
afterwards how many log lines it had to drop.
"""

import asyncio
import itertools
from datetime import datetime

from tests.service.conftest import health, migrate, running, wait_until_serving, write_station


async def test_polling_and_the_api_go_on_while_nobody_reads_the_log(modbus_server, tmp_path):
    config = write_station(tmp_path, modbus_server.port, poll_interval="50ms", tags=100)
    await migrate(config)
    async with running(config, "--log-samples") as process:  # stderr: a pipe, unread
        await wait_until_serving(process, config)
        successes = []
        for _ in range(8):
            await asyncio.sleep(1.0)
            status, body = await health(config, wait=10)
            assert status == 200, body
            successes.append(datetime.fromisoformat(body["devices"][0]["last_success_at"]))
        # Every answer saw a newer successful poll than the one before.
        assert all(a < b for a, b in itertools.pairwise(successes)), successes
        assert process.stderr is not None
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 120)
    text = err.decode()
    assert process.returncode == 0, text[-2000:]
    assert "log record(s) dropped: the log output could not keep up" in text
