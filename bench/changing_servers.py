"""Modbus TCP servers whose holding registers change on every read, for bench/throughput.py.

Each device is a pymodbus ModbusTcpServer on 127.0.0.1, on a port the kernel picks when the
server binds (port 0), so no fixed range can collide with anything else on the machine. The
devices are spread over one or more child processes: pymodbus saturates a core at about
4-5k requests/s, and the load generator must not be what limits the gateway.

Every read of a holding register block adds 1 (mod 2**16) to each register in it before the
answer is built, so every value a poll returns differs from the previous poll's, and report by
exception with deadband 0 must store every one of them. The change is tied to the read, not to
the wall clock: with a clock-driven change, two polls that land in the same second (jitter near
a second boundary) would see the same value, and how many values "changed" would depend on the
poll phase. Here the count is exact: each served register is one changed value.

Per device, the servers count:
- `polls`: reads of the block at address 0 (the first block of each poll cycle);
- `values`: registers served by all reads;
- `first_poll`: time.monotonic() of the first poll (system-wide on Linux, so comparable with
  the parent's clock), NaN before it;
- `late`: polls that came at least half an interval after the one expected (a gap of 1.5
  intervals or more since the previous poll): a skipped tick, or an event loop too busy to
  wake the poll loop on time. Missed polls are counted over a window by the benchmark (polls
  seen against ticks elapsed), see ServedCounts.phase.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import multiprocessing
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, cast

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

HOST = "127.0.0.1"
READ_HOLDING_REGISTERS = 3
LATE_GAP = 1.5
"""A gap between two polls of at least this many intervals makes the second one late."""


@dataclass
class DeviceCounts:
    """What the servers saw of one device's polls (see the module docstring)."""

    polls: int = 0
    values: int = 0
    first_poll: float = math.nan
    last_poll: float = math.nan
    late: int = 0


@dataclass(frozen=True)
class ServedCounts:
    """A snapshot of every device's counts, in device order."""

    devices: tuple[DeviceCounts, ...]

    @property
    def polls(self) -> int:
        return sum(device.polls for device in self.devices)

    @property
    def values(self) -> int:
        return sum(device.values for device in self.devices)

    @property
    def late(self) -> int:
        return sum(device.late for device in self.devices)

    @property
    def polled_devices(self) -> int:
        return sum(1 for device in self.devices if device.polls > 0)

    @property
    def last_first_poll(self) -> float:
        """When the last device to be polled got its first poll (NaN until all were)."""
        firsts = [device.first_poll for device in self.devices]
        return math.nan if any(math.isnan(first) for first in firsts) else max(firsts)

    def phase(self, interval: float) -> float:
        """Where in the interval the polls come (time.monotonic() modulo `interval`), as the
        circular mean over the devices' last polls. The gateway schedules every device on one
        grid, so a window whose ends lie half an interval away from it sees a whole number of
        polls per device even when each poll is a little late."""
        angles = [
            2 * math.pi * (device.last_poll % interval) / interval
            for device in self.devices
            if device.polls
        ]
        if not angles:
            return 0.0
        mean = math.atan2(sum(map(math.sin, angles)), sum(map(math.cos, angles)))
        return (mean / (2 * math.pi) * interval) % interval

    def missed_since(self, before: ServedCounts, ticks: int) -> int:
        """Polls missing since `before` when every device should have had `ticks` of them."""
        return sum(
            max(0, ticks - (after.polls - earlier.polls))
            for earlier, after in zip(before.devices, self.devices, strict=True)
        )


def initial_values(device: int, registers: int) -> list[int]:
    # Varied words, so that nothing in the gateway can take an all-zero shortcut.
    return [(device * 7919 + address * 104729) & 0xFFFF for address in range(registers)]


def _on_read(counts: DeviceCounts, interval: float) -> Any:
    async def action(
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> None:
        if function_code != READ_HOLDING_REGISTERS or set_values is not None:
            return
        # pymodbus answers with registers[offset:offset + count] after this returns.
        offset = address - start_address
        registers[offset : offset + count] = [
            (value + 1) & 0xFFFF for value in registers[offset : offset + count]
        ]
        counts.values += count
        if address != 0:
            return
        now = time.monotonic()
        if counts.polls == 0:
            counts.first_poll = now
        else:
            if now - counts.last_poll >= LATE_GAP * interval:
                counts.late += 1
        counts.polls += 1
        counts.last_poll = now

    return action


async def _serve(devices: Sequence[int], registers: int, interval: float, conn: Connection) -> None:
    counts = [DeviceCounts() for _ in devices]
    servers: list[ModbusTcpServer] = []
    ports: list[int] = []
    for device, device_counts in zip(devices, counts, strict=True):
        simulated = SimDevice(
            1,
            simdata=(
                [SimData(0, count=16, values=False, datatype=DataType.BITS)],
                [SimData(0, count=16, values=False, datatype=DataType.BITS)],
                [SimData(0, values=initial_values(device, registers), datatype=DataType.REGISTERS)],
                [SimData(0, count=registers, values=0, datatype=DataType.REGISTERS)],
            ),
            action=_on_read(device_counts, interval),
        )
        server = ModbusTcpServer([simulated], address=(HOST, 0))
        await server.serve_forever(background=True)
        servers.append(server)
        listener = cast(asyncio.Server, server.transport)  # bound by serve_forever
        ports.append(int(listener.sockets[0].getsockname()[1]))
    conn.send(ports)

    done = asyncio.Event()

    def answer() -> None:
        try:
            request = conn.recv()
        except (EOFError, OSError):  # the parent is gone: stop serving
            done.set()
            return
        if request == "counts":
            conn.send(counts)
        else:
            done.set()

    loop = asyncio.get_running_loop()
    loop.add_reader(conn.fileno(), answer)
    await done.wait()
    loop.remove_reader(conn.fileno())
    for server in servers:
        await server.shutdown()  # type: ignore[no-untyped-call]  # untyped in pymodbus


def _main(devices: Sequence[int], registers: int, interval: float, conn: Connection) -> None:
    # Ctrl-C in the terminal reaches the whole process group; the parent stops us in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Clients that disconnect with requests in flight (the gateway stopping) make pymodbus log
    # every unsent answer; that is expected at the end of a run and not worth the noise.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    asyncio.run(_serve(devices, registers, interval, conn))


class ChangingServers:
    """`with ChangingServers(devices, registers, processes=p) as servers:` devices 0..n-1 on
    `servers.ports`, served by p child processes; `servers.counts()` snapshots the counters."""

    def __init__(
        self, devices: int, registers: int, *, processes: int = 1, interval: float = 1.0
    ) -> None:
        processes = max(1, min(processes, devices))
        context = multiprocessing.get_context("spawn")
        self._groups = [list(range(first, devices, processes)) for first in range(processes)]
        self._pipes: list[Connection] = []
        self._processes: list[multiprocessing.process.BaseProcess] = []
        for group in self._groups:
            parent, child = context.Pipe()
            self._pipes.append(parent)
            self._processes.append(
                context.Process(target=_main, args=(group, registers, interval, child), daemon=True)
            )
        self.ports: list[int] = [0] * devices

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self._processes if process.pid is not None]

    def __enter__(self) -> ChangingServers:
        try:
            for process in self._processes:
                process.start()
            for group, pipe in zip(self._groups, self._pipes, strict=True):
                # Binding a few thousand listeners takes a while on a busy machine.
                if not pipe.poll(120):
                    raise RuntimeError("the benchmark's Modbus servers did not start in 120 s")
                for device, port in zip(group, pipe.recv(), strict=True):
                    self.ports[device] = port
        except BaseException:
            self.close()
            raise
        return self

    def counts(self) -> ServedCounts:
        devices: list[DeviceCounts] = [DeviceCounts()] * len(self.ports)
        try:
            for pipe in self._pipes:
                pipe.send("counts")
            for group, pipe in zip(self._groups, self._pipes, strict=True):
                for device, counts in zip(group, pipe.recv(), strict=True):
                    devices[device] = counts
        except (EOFError, OSError) as exc:
            raise RuntimeError(f"a benchmark server process ended unexpectedly ({exc!r})") from exc
        return ServedCounts(tuple(devices))

    def close(self) -> None:
        for pipe in self._pipes:
            with contextlib.suppress(OSError):  # that process is already gone
                pipe.send("stop")
        for process in self._processes:
            if process.pid is None:
                continue
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()

    def __exit__(self, *exc: object) -> None:
        self.close()
