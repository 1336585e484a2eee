"""The poller over a serial line (a pty pair, see tests/support/serial_line.py): two units share
the line, one of them is dead."""

import asyncio

from pstg.drivers.errors import FailureKind
from pstg.model import Quality, QualityReason, RegisterTable
from pstg.poller.stats import DeviceStats, LinkStatus
from tests.poller.conftest import Collected, drain, for_station, station
from tests.support.serial_line import SerialLine, SerialModbusServer

HR = RegisterTable.HOLDING_REGISTER


async def test_dead_unit_on_a_serial_line_leaves_the_live_one_on_schedule(serial_line: SerialLine):
    def unit(device_id: str, unit_id: int) -> dict[str, object]:
        return {
            "id": device_id,
            "driver": "modbus-rtu",
            "serial_port": serial_line.master_url,
            "baudrate": 19200,
            "parity": "E",
            "unit_id": unit_id,
            # A dead unit holds the line for `timeout` per attempt; the interval leaves room.
            "poll_interval": 0.5,
            "timeout": 0.1,
            "backoff_initial": 0.5,
            "backoff_max": 1.0,
            "tags": [{"name": f"{device_id}.x", "source": "holding_register", "address": 0}],
        }

    def enough(stats: dict[str, DeviceStats]) -> bool:
        live = stats["live"]
        # ... and the live unit between two cycles, so its counters can be compared exactly.
        between_cycles = live.cycles == live.requests == live.responses
        return (
            live.cycles >= 8 and stats["dead"].errors[FailureKind.TIMEOUT] >= 3 and between_cycles
        )

    collected = Collected()
    async with SerialModbusServer(
        serial_line.device_url, units=(1,), baudrate=19200, parity="E"
    ) as device:
        await device.set_values(1, HR, 0, [321])
        async with for_station(station(unit("live", 1), unit("dead", 2))) as poller:
            async with asyncio.timeout(30):  # a bound, not a measurement
                while not enough(poller.stats):
                    await asyncio.sleep(0.05)
                    drain(poller.output, collected)
            stats = {name: stats.snapshot() for name, stats in poller.stats.items()}
        drain(poller.output, collected)
        dead_requests_seen = device.request_count(2)

    live, dead = stats["live"], stats["dead"]
    # Every cycle of the live unit was answered (the wait ended with cycles == responses), none
    # failed, and no tick was skipped or late.
    assert live["status"] == LinkStatus.UP
    assert live["errors"] == {}
    assert live["skipped_ticks"] == 0
    assert live["overruns"] == 0
    assert {(s.quality, s.value) for s in collected.of("live.x")} == {(Quality.GOOD, 321.0)}
    # The dead unit's requests went out on the line, unanswered, and it was backed off.
    assert dead["status"] == LinkStatus.DOWN
    assert set(dead["errors"]) == {FailureKind.TIMEOUT.value}
    assert dead["requests"] >= 3
    assert dead_requests_seen >= 3
    assert dead["cycles"] < live["cycles"]
    assert {(s.quality, s.reason) for s in collected.of("dead.x")} == {
        (Quality.BAD, QualityReason.TIMEOUT)
    }
