"""bench/changing_servers.py: every read returns new values, and the counts are exact."""

import math
import sys
from pathlib import Path

from pymodbus.client import AsyncModbusTcpClient

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from changing_servers import ChangingServers, DeviceCounts, ServedCounts, initial_values


async def read(port: int, count: int, address: int = 0) -> list[int]:
    client = AsyncModbusTcpClient("127.0.0.1", port=port)
    try:
        assert await client.connect()
        response = await client.read_holding_registers(address, count=count, device_id=1)
        assert not response.isError()
        return list(response.registers)
    finally:
        client.close()


async def test_every_read_changes_every_value_and_is_counted() -> None:
    with ChangingServers(3, 10, processes=2) as servers:
        assert len(set(servers.ports)) == 3
        first = await read(servers.ports[0], 10)
        second = await read(servers.ports[0], 10)
        other = await read(servers.ports[2], 10)
        tail = await read(servers.ports[2], 4, address=6)  # not the first block: no new poll
        counts = servers.counts()

    assert first == [(value + 1) & 0xFFFF for value in initial_values(0, 10)]
    assert second == [(value + 1) & 0xFFFF for value in first]
    assert other == [(value + 1) & 0xFFFF for value in initial_values(2, 10)]
    assert tail == [(value + 1) & 0xFFFF for value in other[6:]]
    polls = [device.polls for device in counts.devices]
    values = [device.values for device in counts.devices]
    assert (polls, values) == ([2, 0, 1], [20, 0, 14])
    assert counts.polled_devices == 2
    assert math.isnan(counts.last_first_poll)  # device 1 was never polled


def test_missed_polls_are_ticks_without_a_poll_per_device() -> None:
    before = ServedCounts((DeviceCounts(polls=5), DeviceCounts(polls=5), DeviceCounts(polls=5)))
    after = ServedCounts((DeviceCounts(polls=15), DeviceCounts(polls=12), DeviceCounts(polls=16)))

    # One device polled once more than the window's ticks does not hide another's misses.
    assert after.missed_since(before, ticks=10) == 3


def test_the_polls_phase_is_a_circular_mean() -> None:
    counts = ServedCounts(
        (
            DeviceCounts(polls=1, last_poll=100.96),
            DeviceCounts(polls=1, last_poll=101.04),
            DeviceCounts(polls=0),  # not polled yet: no phase
        )
    )

    # 0.96 and 0.04 lie on either side of the second: their mean is 0, not 0.5.
    phase = counts.phase(1.0)
    assert min(phase, 1.0 - phase) < 1e-6
