"""Worker processes: devices split by line over spawned pollers, whose batches, events and
statistics reach the main process; a worker that dies is reported and started again."""

import asyncio
import os
import signal

import pytest

from pstg.batch import Batch
from pstg.config.tag_table import TagTable
from pstg.errors import NotFound, Unavailable
from pstg.model import Event, RegisterTable
from pstg.poller.workers import (
    AUTO_SINGLE_PROCESS_BELOW,
    CHANNEL_MARGIN,
    WorkerPool,
    plan_workers,
    values_per_second,
    worker_count,
)
from pstg.poller.writes import WriteStatus
from tests.poller.conftest import station
from tests.support.modbus_server import ModbusTestServer


def device(name, port, unit=1, tags=2, interval="100ms", **extra):
    return {
        "id": name,
        "port": port,
        "unit_id": unit,
        "poll_interval": interval,
        "tags": [
            {"name": f"{name}.t{n}", "source": "holding_register", "address": n}
            for n in range(tags)
        ],
        **extra,
    }


def test_devices_on_one_line_stay_together_and_loads_even_out():
    config = station(
        device("a1", 5001, unit=1, tags=50),
        device("a2", 5001, unit=2, tags=50),  # same line as a1
        device("b", 5002, tags=60),
        device("c", 5003, tags=40),
        {"id": "s1", "driver": "modbus-rtu", "serial_port": "/dev/ttyS9", "unit_id": 1,
         "tags": [{"name": "s1.t", "source": "coil", "address": 0}]},
        {"id": "s2", "driver": "modbus-rtu", "serial_port": "/dev/ttyS9", "unit_id": 2,
         "tags": [{"name": "s2.t", "source": "coil", "address": 0}]},
    )  # fmt: skip
    groups = plan_workers(list(TagTable.from_config(config).devices.values()), 2)
    ids = [{entry.device.id for entry in group} for group in groups]
    assert len(ids) == 2
    assert any({"a1", "a2"} <= group for group in ids)  # one TCP line
    assert any({"s1", "s2"} <= group for group in ids)  # one serial port
    loads = sorted(values_per_second([entry.device for entry in group]) for group in groups)
    assert loads == [1000, 1002]  # a1+a2 (100 tags at 10/s) against b+c, plus the serial line


def test_auto_keeps_a_small_station_in_one_process_and_splits_a_large_one():
    small = station(device("d", 5001, tags=100, interval="1s"))
    assert worker_count("auto", small.devices) == 0
    many = station(*(device(f"d{n}", 5000 + n, tags=100, interval="1s") for n in range(400)))
    assert values_per_second(many.devices) >= AUTO_SINGLE_PROCESS_BELOW
    assert 1 <= worker_count("auto", many.devices) <= (os.cpu_count() or 1)
    assert worker_count(3, many.devices) == 3
    assert worker_count(0, many.devices) == 0


class Received:
    def __init__(self) -> None:
        self.batches: list[Batch] = []
        self.events: list[Event] = []
        self.arrived = asyncio.Event()

    def emit_batch(self, batch: Batch) -> None:
        self.batches.append(batch)
        self.arrived.set()

    def emit_event(self, event: Event) -> None:
        self.events.append(event)

    def values(self, names):
        return {s.tag: s.value for b in self.batches for s in b.samples(names)}

    async def wait_for(self, condition, limit=60.0):
        async with asyncio.timeout(limit):
            while not condition():
                self.arrived.clear()
                await self.arrived.wait()


async def test_workers_poll_their_devices_and_report_to_the_main_process():
    async with ModbusTestServer(units=(1, 2)) as first, ModbusTestServer(units=(1,)) as second:
        await first.set_values(1, RegisterTable.HOLDING_REGISTER, 0, [11, 12])
        await first.set_values(2, RegisterTable.HOLDING_REGISTER, 0, [21, 22])
        await second.set_values(1, RegisterTable.HOLDING_REGISTER, 0, [31, 32])
        config = station(
            device("a1", first.port, unit=1),
            device("a2", first.port, unit=2),
            device("b", second.port),
        )
        table = TagTable.from_config(config)
        received = Received()
        pool = WorkerPool(plan_workers(list(table.devices.values()), 2), received)
        assert pool.size == 2
        await pool.start()
        try:
            expected = {"a1.t0": 11.0, "a1.t1": 12.0, "a2.t0": 21.0, "a2.t1": 22.0,
                        "b.t0": 31.0, "b.t1": 32.0}  # fmt: skip
            await received.wait_for(lambda: received.values(table.names) == expected)
            await received.wait_for(lambda: all(s.cycles for s in pool.stats.values()))
            assert {e.source for e in received.events} >= {"a1", "a2", "b"}  # connected
            pids = pool.pids
            assert len(set(pids)) == 2
            assert os.getpid() not in pids
        finally:
            await pool.stop()
        assert all(stats.cycles >= 1 for stats in pool.stats.values())
        for pid in pids:  # the workers are gone
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)


async def test_a_worker_that_dies_is_reported_and_started_again():
    async with ModbusTestServer(units=(1,)) as server:
        await server.set_values(1, RegisterTable.HOLDING_REGISTER, 0, [7, 8])
        config = station(device("d", server.port))
        table = TagTable.from_config(config)
        received = Received()
        lost: list[list[str]] = []
        pool = WorkerPool(
            plan_workers(list(table.devices.values()), 1),
            received,
            on_worker_lost=lambda devices: lost.append([e.device.id for e in devices]),
            restart_delay=0.1,
        )
        await pool.start()
        try:
            await received.wait_for(lambda: len(received.batches) >= 1)
            (first_pid,) = pool.pids
            os.kill(first_pid, signal.SIGKILL)
            await received.wait_for(lambda: lost == [["d"]])
            received.batches.clear()
            await received.wait_for(lambda: len(received.batches) >= 1)  # polling again
            assert pool.pids != [first_pid]
        finally:
            await pool.stop()


async def test_a_write_travels_to_the_worker_of_its_device_and_back():
    async with ModbusTestServer(units=(1,)) as server:
        config = station(
            {"id": "plc", "port": server.port, "poll_interval": "100ms", "timeout": "1s",
             "tags": [{"name": "setpoint", "source": "holding_register", "address": 10,
                       "type": "float32", "word_order": "little", "writable": True}]},
            device("other", server.port, unit=2),
        )  # fmt: skip
        table = TagTable.from_config(config)
        lost: list[list[str]] = []
        pool = WorkerPool(
            [[table.devices["plc"]]],  # "other" is in no worker
            Received(),
            on_worker_lost=lambda devices: lost.append([e.device.id for e in devices]),
            restart_delay=2.0,
        )
        await pool.start()
        try:
            outcome = await pool.write_tag("setpoint", 12.5)

            assert outcome.status is WriteStatus.WRITTEN
            assert (outcome.function_code, outcome.confirmed) == (16, True)
            assert await server.get_values(1, RegisterTable.HOLDING_REGISTER, 10, 2) == [0, 0x4148]
            assert server.request_count(1, 16) == 1
            assert server.request_count(1, 6) == 0
            with pytest.raises(NotFound, match=r"other\.t0"):
                await pool.write_tag("other.t0", 1)

            # A worker that does not answer: failed after the time limit and the channel's margin.
            (pid,) = pool.pids
            os.kill(pid, signal.SIGSTOP)
            try:
                silent = await pool.write_tag("setpoint", 12.0, time_limit=0.2)
            finally:
                os.kill(pid, signal.SIGCONT)
            assert silent.status is WriteStatus.FAILED
            assert f"did not answer within {0.2 + CHANNEL_MARGIN:g}s" in silent.message
            await wait_until(lambda: server.request_count(1, 16) == 2)  # its late write

            # A worker that dies with a write pending: failed, at once, not at the time limit.
            server.response_delay = 30.0
            pending = asyncio.create_task(pool.write_tag("setpoint", 13.0, time_limit=60.0))
            await wait_until(lambda: server.request_count(1, 16) == 3)
            os.kill(pid, signal.SIGKILL)
            dead = await pending
            assert dead.status is WriteStatus.FAILED
            assert "ended before answering" in dead.message
            await wait_until(lambda: lost == [["plc"]])
            with pytest.raises(Unavailable, match="not running"):
                await pool.write_tag("setpoint", 14.0)
        finally:
            server.response_delay = 0.0
            await pool.stop()


async def wait_until(condition, polls=3000):
    for _ in range(polls):  # 30 s at most
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")
