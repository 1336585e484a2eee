"""Poll benchmark: the gateway against a bare pymodbus loop issuing the same requests.

    uv run python bench/poll.py [--devices 4] [--tags 200] [--cycles 200] [--seconds 10]

Servers run in a child process on 127.0.0.1 (one port per device). Prints:
- per full poll cycle (all devices at once, back to back): median time of the bare pymodbus
  loop and of the gateway (read plan + driver + decode + samples + stats), and their ratio;
- a timed run of the real poller at a fixed interval: samples/s, requests/s, CPU seconds per
  1000 samples of the gateway process, overruns.
Rounds alternate bare/gateway so that machine noise hits both alike; medians are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from pymodbus.client import AsyncModbusTcpClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loopback_servers import LoopbackServers
from pstg.batch import Batch
from pstg.config.models import DeviceConfig, StationConfig
from pstg.config.tag_table import TagTable
from pstg.drivers.base import DriverContext
from pstg.drivers.planner import ReadPlan, plan_device
from pstg.drivers.registry import create_driver
from pstg.model import Event, RegisterTable
from pstg.poller.device_loop import DeviceLoop
from pstg.poller.output import CollectingOutput
from pstg.poller.service import Poller

# A realistic mix: floats in both word orders, scaled integers, counters, status bits.
TAG_KINDS: list[dict[str, Any]] = [
    {"type": "float32"},
    {"type": "float32", "word_order": "little"},
    {"type": "uint16", "scale": 0.1, "sentinels": [0xFFFF]},
    {"type": "int16", "scale": 0.01},
    {"type": "uint32"},
    {"type": "bool", "bit": 3},
]


def station(ports: list[int], tags_per_device: int, interval: float) -> StationConfig:
    devices = []
    for index, port in enumerate(ports):
        tags, address = [], 0
        for number in range(tags_per_device):
            kind = TAG_KINDS[number % len(TAG_KINDS)]
            tags.append(
                {"name": f"d{index}.t{number}", "source": "holding_register", "address": address}
                | kind
            )
            address += 2 if kind["type"] in ("float32", "uint32") else 1
        devices.append(
            {
                "id": f"d{index}",
                "port": port,
                "poll_interval": interval,
                "timeout": 2.0,
                "tags": tags,
            }
        )
    return StationConfig.model_validate({"station": {"id": "bench"}, "devices": devices})


class Counting:
    """A poll output that only counts the readings (what a null sink costs: nothing)."""

    def __init__(self) -> None:
        self.samples = 0

    def emit_batch(self, batch: Batch) -> None:
        self.samples += len(batch)

    def emit_event(self, event: Event) -> None:
        pass


async def bare_cycle(clients: list[AsyncModbusTcpClient], plans: list[ReadPlan]) -> float:
    async def one(client: AsyncModbusTcpClient, plan: ReadPlan) -> None:
        for block in plan.blocks:
            assert block.table is RegisterTable.HOLDING_REGISTER
            response = await client.read_holding_registers(
                block.address, count=block.count, device_id=1
            )
            assert not response.isError()

    began = time.perf_counter()
    await asyncio.gather(*(one(c, p) for c, p in zip(clients, plans, strict=True)))
    return time.perf_counter() - began


async def gateway_cycle(loops: list[DeviceLoop]) -> float:
    began = time.perf_counter()
    await asyncio.gather(*(loop.poll_once() for loop in loops))
    elapsed = time.perf_counter() - began
    for loop in loops:
        assert isinstance(loop.output, CollectingOutput)
        loop.output.take()
    return elapsed


async def compare_cycles(config: StationConfig, cycles: int, rounds: int) -> None:
    devices: list[DeviceConfig] = config.devices
    plans = [plan_device(device) for device in devices]
    clients = [
        AsyncModbusTcpClient("127.0.0.1", port=d.port, timeout=2, retries=0, reconnect_delay=0)
        for d in devices
    ]
    for client in clients:
        await client.connect()
    context = DriverContext()
    output = CollectingOutput()
    table = TagTable.from_config(config)
    loops = [
        DeviceLoop(d, create_driver(d, context), output, first_index=table.devices[d.id].first)
        for d in devices
    ]
    for _ in range(5):  # warm up connections and caches on both sides
        await bare_cycle(clients, plans)
        await gateway_cycle(loops)
    bare: list[float] = []
    gateway: list[float] = []
    per_round = max(1, cycles // rounds)
    for _ in range(rounds):
        bare += [await bare_cycle(clients, plans) for _ in range(per_round)]
        gateway += [await gateway_cycle(loops) for _ in range(per_round)]
    for client in clients:
        client.close()
    for loop in loops:
        await loop.driver.close()
    await context.aclose()
    requests = sum(len(plan.blocks) for plan in plans)
    tags = sum(plan.tag_count for plan in plans)
    bare_median, gateway_median = statistics.median(bare), statistics.median(gateway)
    print(f"one full cycle: {len(devices)} devices, {requests} requests, {tags} tags")
    print(f"  bare pymodbus loop   median {bare_median * 1000:8.3f} ms")
    print(f"  gateway poll cycle   median {gateway_median * 1000:8.3f} ms")
    print(
        f"  ratio gateway/bare   {gateway_median / bare_median:.2f}x "
        f"({len(bare)} cycles each, {rounds} alternating rounds)"
    )


async def timed_run(config: StationConfig, seconds: float) -> None:
    output = Counting()

    async with Poller.for_station(config, output) as poller:
        await asyncio.sleep(1.0)  # connect and settle before measuring
        output.samples, cpu0, wall0 = 0, time.process_time(), time.perf_counter()
        requests0 = sum(s.requests for s in poller.stats.values())
        cycles0 = sum(s.cycles for s in poller.stats.values())
        await asyncio.sleep(seconds)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        requests = sum(s.requests for s in poller.stats.values()) - requests0
        cycles = sum(s.cycles for s in poller.stats.values()) - cycles0
        overruns = sum(s.overruns for s in poller.stats.values())
        errors = sum(sum(s.errors.values()) for s in poller.stats.values())
        samples = output.samples
    interval = config.devices[0].poll_interval
    print(f"timed run: {seconds:g} s at poll_interval {interval * 1000:g} ms per device")
    print(f"  device cycles/s      {cycles / wall:10.1f}")
    print(f"  samples/s            {samples / wall:10.0f}")
    print(f"  requests/s           {requests / wall:10.0f}")
    print(f"  CPU s / 1000 samples {cpu / max(samples, 1) * 1000:10.4f}")
    print(f"  CPU share of 1 core  {cpu / wall * 100:9.1f} %")
    print(f"  overruns {overruns}, errors {errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--tags", type=int, default=200, help="tags per device")
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=0.1, help="poll interval, s")
    args = parser.parse_args()
    with LoopbackServers(args.devices) as ports:
        config = station(ports, args.tags, args.interval)
        asyncio.run(compare_cycles(config, args.cycles, args.rounds))
        asyncio.run(timed_run(config, args.seconds))


if __name__ == "__main__":
    main()
