"""The poller end to end against real Modbus servers on 127.0.0.1."""

import itertools
import logging
import statistics

import pytest

from pstg.codec import encode_value
from pstg.drivers.errors import FailureKind
from pstg.model import (
    DataType,
    Endian,
    EventKind,
    Quality,
    QualityReason,
    RegisterTable,
    Sample,
)
from pstg.poller.stats import LinkStatus
from tests.poller.conftest import (
    Collected,
    drain,
    for_station,
    free_port,
    poll_once,
    run_for,
    station,
)
from tests.support.modbus_server import ModbusTestServer, SilentServer

HR = RegisterTable.HOLDING_REGISTER
NUMERIC_VALUES = {
    DataType.INT16: -1234,
    DataType.UINT16: 54321,
    DataType.INT32: -123456789,
    DataType.UINT32: 3_000_000_000,
    DataType.INT64: -(2**40) - 7,
    DataType.UINT64: 2**52 + 3,
    DataType.FLOAT32: 3.25,
    DataType.FLOAT64: -1234.5678125,
}


def device(server, **fields):
    return {
        "id": "plc",
        "host": server.host,
        "port": server.port,
        "poll_interval": 0.1,
        "timeout": 0.3,
        **fields,
    }


async def test_every_type_and_order_reads_back_through_a_real_server(modbus_server):
    tags: list[dict[str, object]] = []
    expected: dict[str, float | str] = {}
    address = 0
    for data_type, value in NUMERIC_VALUES.items():
        for word_order in Endian:
            for byte_order in Endian:
                name = f"{data_type.value}.{word_order.value}_word.{byte_order.value}_byte"
                words = encode_value(value, data_type, word_order=word_order, byte_order=byte_order)
                await modbus_server.set_values(1, HR, address, words)
                tags.append(
                    {
                        "name": name,
                        "source": "holding_register",
                        "address": address,
                        "type": data_type.value,
                        "word_order": word_order.value,
                        "byte_order": byte_order.value,
                    }
                )
                expected[name] = float(value)
                address += len(words)
    for byte_order in Endian:
        words = encode_value(
            "PS-01 Main", DataType.STRING, word_order=Endian.BIG, byte_order=byte_order, length=6
        )
        await modbus_server.set_values(1, HR, address, words)
        name = f"name.{byte_order.value}_byte"
        tags.append(
            {
                "name": name,
                "source": "holding_register",
                "address": address,
                "type": "string",
                "length": 6,
                "byte_order": byte_order.value,
            }
        )
        expected[name] = "PS-01 Main"
        address += 6
    await modbus_server.set_values(1, HR, address, [0b1010_0000_0000_0101])
    for bit, value in [(0, 1.0), (1, 0.0), (2, 1.0), (13, 1.0), (15, 1.0), (14, 0.0)]:
        tags.append(
            {
                "name": f"status.bit{bit}",
                "source": "holding_register",
                "address": address,
                "type": "bool",
                "bit": bit,
            }
        )
        expected[f"status.bit{bit}"] = value
    await modbus_server.set_values(1, RegisterTable.COIL, 3, [1, 0, 1])
    await modbus_server.set_values(1, RegisterTable.DISCRETE_INPUT, 9, [1])
    await modbus_server.set_values(1, RegisterTable.INPUT_REGISTER, 7, [250])
    tags += [
        {"name": "coil3", "source": "coil", "address": 3},
        {"name": "coil4", "source": "coil", "address": 4},
        {"name": "coil5", "source": "coil", "address": 5},
        {"name": "di9", "source": "discrete_input", "address": 9},
        {"name": "current", "source": "input_register", "address": 7, "scale": 0.1, "offset": 1},
    ]
    expected |= {"coil3": 1.0, "coil4": 0.0, "coil5": 1.0, "di9": 1.0, "current": 26.0}

    collected = await poll_once(station(device(modbus_server, tags=tags)))

    first: dict[str, Sample] = {}
    for sample in collected.samples:
        first.setdefault(sample.tag, sample)
    assert set(first) == set(expected)
    for name, wanted in expected.items():
        sample = first[name]
        assert sample.quality is Quality.GOOD, (name, sample)
        if isinstance(wanted, str):
            assert sample.value == wanted
        else:
            assert sample.value == pytest.approx(wanted, rel=1e-6), name


async def test_requests_on_the_wire_match_the_plan(modbus_server):
    tags = [{"name": f"hr{a}", "source": "holding_register", "address": a} for a in (0, 5, 12)]
    tags += [{"name": f"far{a}", "source": "holding_register", "address": a} for a in (200, 201)]
    tags += [
        {"name": f"ir{a}", "source": "input_register", "address": a, "type": "float32"}
        for a in range(0, 300, 2)
    ]  # 300 registers: 3 requests at 125 each
    tags += [{"name": f"c{a}", "source": "coil", "address": a} for a in (0, 100, 999)]
    config = station(device(modbus_server, max_gap=10, max_bit_gap=200, tags=tags))
    async with for_station(config) as poller:
        plan = poller.loops["plc"].plan
        await run_for(poller, 0.45, Collected())
        cycles = poller.stats["plc"].cycles
    assert [len(block.tags) for block in plan.blocks][:2] == [2, 1]  # coils: 0+100 | 999
    assert cycles >= 3
    assert modbus_server.request_count(1, 3) == 2 * cycles  # 0..12 bridged, 200..201
    assert modbus_server.request_count(1, 4) == 3 * cycles
    assert modbus_server.request_count(1, 1) == 2 * cycles
    assert modbus_server.request_count() == 7 * cycles == poller.stats["plc"].requests


async def test_exception_response_marks_only_its_block_bad(modbus_server):
    tags = [
        {"name": "ok", "source": "holding_register", "address": 1},
        {"name": "beyond", "source": "holding_register", "address": 5000},  # not in the datastore
    ]
    collected = await poll_once(station(device(modbus_server, tags=tags)))
    assert collected.of("ok")[0].quality is Quality.GOOD
    bad = collected.of("beyond")[0]
    assert (bad.quality, bad.reason, bad.value) == (Quality.BAD, QualityReason.DEVICE_FAILURE, None)
    assert [event.kind for event in collected.events] == [EventKind.DEVICE_CONNECTED]


async def test_silent_device_times_out_without_hanging():
    async with SilentServer() as silent:
        config = station(
            {
                "id": "mute",
                "host": silent.host,
                "port": silent.port,
                "poll_interval": 0.2,
                "timeout": 0.2,
                "tags": [{"name": "x", "source": "holding_register", "address": 0}],
            }
        )
        async with for_station(config) as poller:
            collected = Collected()
            await run_for(poller, 0.5, collected)
            stats = poller.stats["mute"]
    assert stats.errors[FailureKind.TIMEOUT] >= 1
    assert stats.status is LinkStatus.DOWN
    assert stats.last_cycle_duration is not None
    assert stats.last_cycle_duration < 0.4
    sample = collected.of("x")[0]
    assert (sample.quality, sample.reason) == (Quality.BAD, QualityReason.TIMEOUT)
    assert collected.events[0].kind is EventKind.DEVICE_DISCONNECTED
    assert collected.events[0].attributes == {"driver": "modbus-tcp", "failure_kind": "timeout"}


async def test_dead_devices_do_not_delay_a_live_one(modbus_server):
    async with SilentServer() as silent:
        tag = [{"name": "x", "source": "holding_register", "address": 0}]
        config = station(
            {
                "id": "live",
                "host": modbus_server.host,
                "port": modbus_server.port,
                "poll_interval": 0.1,
                "tags": [{"name": "live.x", "source": "holding_register", "address": 0}],
            },
            {
                "id": "refused",
                "port": free_port(),
                "poll_interval": 0.1,
                "timeout": 0.5,
                "backoff_initial": 0.1,
                "tags": [{**tag[0], "name": "refused.x"}],
            },
            {
                "id": "silent",
                "port": silent.port,
                "poll_interval": 0.1,
                "timeout": 0.5,
                "backoff_initial": 0.1,
                "tags": [{**tag[0], "name": "silent.x"}],
            },
        )
        collected = Collected()
        async with for_station(config) as poller:
            await run_for(poller, 2.0, collected)
            stats = poller.stats
    live = collected.of("live.x")
    gaps = [b.ts - a.ts for a, b in itertools.pairwise(live)]
    assert len(live) >= 17  # 20 ticks in 2 s; allow for a noisy shared machine
    assert statistics.median(gap.total_seconds() for gap in gaps) == pytest.approx(0.1, abs=0.02)
    assert all(sample.quality is Quality.GOOD for sample in live)
    assert stats["live"].overruns == 0
    assert stats["refused"].errors[FailureKind.CONNECT_FAILED] >= 2
    assert stats["silent"].errors[FailureKind.TIMEOUT] >= 1
    assert {s.reason for s in collected.of("refused.x")} == {QualityReason.COMM_FAILURE}
    assert {s.reason for s in collected.of("silent.x")} == {QualityReason.TIMEOUT}


async def test_server_restart_gives_bad_samples_during_the_gap_then_recovers():
    async with ModbusTestServer() as server:
        await server.set_values(1, HR, 0, [42])
        config = station(
            device(
                server,
                backoff_initial=0.1,
                backoff_max=0.2,
                tags=[{"name": "x", "source": "holding_register", "address": 0}],
            )
        )
        collected = Collected()
        async with for_station(config) as poller:
            await run_for(poller, 0.35, collected)
            await server.stop()
            await run_for(poller, 0.8, collected)
            await server.start()
            await run_for(poller, 0.8, collected)
            stats = poller.stats["plc"]
        drain(poller.output, collected)
    qualities = [sample.quality for sample in collected.of("x")]
    # good, then bad while the server is away, then good again: in that order, nothing invented
    first_bad = qualities.index(Quality.BAD)
    recovered = qualities.index(Quality.GOOD, first_bad)
    assert first_bad > 0
    assert all(q is Quality.BAD for q in qualities[first_bad:recovered])
    assert all(q is Quality.GOOD for q in qualities[recovered:])
    assert all(s.value is None for s in collected.of("x") if s.quality is Quality.BAD)
    assert {s.reason for s in collected.of("x") if s.quality is Quality.BAD} <= {
        QualityReason.COMM_FAILURE,
        QualityReason.TIMEOUT,
    }
    assert [event.kind for event in collected.events] == [
        EventKind.DEVICE_CONNECTED,
        EventKind.DEVICE_DISCONNECTED,
        EventKind.DEVICE_CONNECTED,
    ]
    assert collected.events[2].message == "connection restored"
    assert stats.status is LinkStatus.UP
    assert stats.consecutive_failures == 0


async def test_dead_unit_on_a_shared_gateway_is_backed_off(modbus_server):
    # Unit 9 is not served: the server answers "gateway target failed to respond" (0x0B),
    # as a serial gateway does for a silent slave.
    tag = {"source": "holding_register", "address": 0}
    config = station(
        device(modbus_server, id="good", unit_id=1, tags=[{**tag, "name": "good.x"}]),
        device(
            modbus_server,
            id="gone",
            unit_id=9,
            backoff_initial=0.2,
            backoff_max=1.0,
            tags=[{**tag, "name": "gone.x"}],
        ),
    )
    collected = Collected()
    async with for_station(config) as poller:
        await run_for(poller, 1.5, collected)
        stats = poller.stats
    assert modbus_server.connections == 1  # one link for both units
    assert stats["gone"].status is LinkStatus.DOWN
    assert stats["gone"].errors[FailureKind.DEVICE_EXCEPTION] <= 6  # backed off, not 15 tries
    assert modbus_server.request_count(1) >= 13
    assert {s.reason for s in collected.of("gone.x")} == {QualityReason.DEVICE_FAILURE}


async def test_overruns_are_counted_and_warned_about_once(modbus_server, caplog):
    """A device slower than its interval overruns every cycle: counted each time, and said
    at WARNING (not once per cycle) so an overloaded gateway shows in the log without an API."""
    modbus_server.response_delay = 0.08
    config = station(
        {
            "id": "slow",
            "port": modbus_server.port,
            "poll_interval": "20ms",
            "timeout": "1s",
            "tags": [{"name": "slow.x", "source": "holding_register", "address": 0}],
        }
    )
    with caplog.at_level(logging.WARNING, logger="pstg.poller.device_loop"):
        async with for_station(config) as poller:
            await run_for(poller, 1.0, Collected())
            overruns = poller.stats["slow"].overruns
    assert overruns >= 3
    warnings = [r.getMessage() for r in caplog.records if "overran" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("slow: poll cycle overran its 0.02s interval")
