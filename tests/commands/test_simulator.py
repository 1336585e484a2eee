"""Commands against the pump station simulator on 127.0.0.1, with the config `pstg seed`
writes, on both databases: the scenarios of issue 12 end to end, and a Modbus client that is
not ours (pyModbusTCP) reading what was written."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pyModbusTCP.client import ModbusClient

from pstg.simulator.process import Hoa
from pstg.simulator.runner import Simulator
from pstg.simulator.scenarios import parse_scenario
from pstg.simulator.seed import SeedOptions, seed_config_text
from tests.cli.conftest import run_pstg
from tests.commands.conftest import RunningStation, running_station
from tests.simulator.conftest import options


def seeded(port: int) -> str:
    """The seeded station, polled every 200 ms, with the placeholders running_station fills."""
    text = seed_config_text(SeedOptions(port=port, database_url="{database}", api_port=0))
    text = text.replace(
        "api: {host: 127.0.0.1, port: 0}", "api: {host: 127.0.0.1, port: {api_port}}"
    )
    assert "{api_port}" in text
    return text.replace("poll_interval: 1s", "poll_interval: 200ms")


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    async with Simulator(options(speed=1.0)) as running:
        yield running


@pytest.fixture
async def station(
    simulator: Simulator, tmp_path: Path, database_url: str
) -> AsyncIterator[RunningStation]:
    async with running_station(tmp_path, seeded(simulator.ports[0]), database_url) as up:
        await up.reading("pump2.auto", lambda value: value is not None)
        yield up


def writes(simulator: Simulator) -> int:
    return simulator.servers[0].writes


def foreign_read(port: int, address: int, count: int) -> list[int]:
    """Holding registers as pyModbusTCP reads them (retrying what a flaky link loses)."""
    client = ModbusClient(host="127.0.0.1", port=port, unit_id=1, timeout=2.0, auto_open=True)
    try:
        for _ in range(20):
            registers = client.read_holding_registers(address, count)
            if registers:
                return list(registers)
        raise AssertionError(f"pyModbusTCP could not read {count} registers at {address}")
    finally:
        client.close()


async def test_a_set_point_change_is_confirmed_stored_and_seen_by_another_client(
    station, simulator
):
    plc = simulator.stations[0].setpoints
    target = round((plc.stop + plc.lag_start) / 2, 2)  # the PLC's order holds

    selected, operated = await station.command("erin", "setpoint.lead_start", target, "storm")

    assert selected.status_code == 201, selected.text
    assert operated is not None
    assert operated.json()["state"] == "confirmed", operated.text
    assert await station.reading("setpoint.lead_start", lambda v: v == pytest.approx(target))
    raw = await asyncio.to_thread(foreign_read, simulator.ports[0], 0, 1)
    assert raw == [round(target * 100)]
    assert await stored_value(station, "setpoint.lead_start", target) == pytest.approx(target)


async def stored_value(station: RunningStation, tag: str, value: float) -> float:
    """The latest stored sample of `tag` once it holds `value` (the writer flushes about
    every second), through /series."""
    loop = asyncio.get_running_loop()
    end = loop.time() + 30
    while True:
        answer = await station.get("vera", "/series", tag=tag, **{"from": "now-5m"})
        assert answer.status_code == 200, answer.text
        points = answer.json()["points"]
        if points and points[-1]["value"] == pytest.approx(value):
            return float(points[-1]["value"])
        assert loop.time() < end, f"{tag} stored {points[-3:]}, never {value}"
        await asyncio.sleep(0.2)


async def test_a_float32_cdab_set_point_travels_in_one_request_in_its_word_order(
    station, simulator
):
    answer = await station.post("erin", "/commands", {"tag": "setpoint.high_pressure",
                                                      "value": 6.5})  # fmt: skip

    assert answer.status_code == 200, answer.text  # mode: direct
    assert answer.json()["state"] == "confirmed"
    low, high = await asyncio.to_thread(foreign_read, simulator.ports[0], 32, 2)
    assert struct.unpack(">f", struct.pack(">HH", high, low))[0] == 6.5  # CDAB: low word first


async def test_remote_start_of_pump_2_in_auto_and_remote_is_confirmed_by_running(
    station, simulator
):
    _, remote = await station.command("alice", "pump2.remote_mode", True)
    assert remote is not None
    assert remote.json()["state"] == "confirmed", remote.text
    await station.reading("pump2.remote", lambda value: value == 1)

    _, run = await station.command("alice", "pump2.remote_run", True, "exercise run")

    assert run is not None
    assert run.json()["state"] == "confirmed", run.text
    assert run.json()["read_back"] == 1
    assert simulator.stations[0].pumps[1].running


async def test_remote_start_of_a_pump_in_off_is_refused_at_select_and_nothing_is_written(
    station, simulator
):
    simulator.stations[0].set_hoa(2, Hoa.OFF)
    simulator.units[0].touch()
    await station.reading("pump2.auto", lambda value: value == 0)
    before = writes(simulator)

    answer = await station.post("alice", "/commands", {"tag": "pump2.remote_run", "value": True})

    assert answer.status_code == 409
    assert answer.json()["rule"] == "interlock"
    assert "pump 2 is not in Auto" in answer.json()["detail"]
    assert writes(simulator) == before


async def test_an_interlock_broken_between_select_and_operate_refuses_the_operate(
    station, simulator
):
    selected = await station.post("alice", "/commands", {"tag": "pump2.remote_mode",
                                                         "value": True})  # fmt: skip
    assert selected.status_code == 201, selected.text
    simulator.stations[0].set_hoa(2, Hoa.HAND)  # someone at the panel
    simulator.units[0].touch()
    await station.reading("pump2.auto", lambda value: value == 0)
    before = writes(simulator)

    operated = await station.post("alice", f"/commands/{selected.json()['id']}/operate")

    assert operated.status_code == 409
    assert operated.json()["rule"] == "interlock"
    assert writes(simulator) == before


async def test_a_value_the_plc_refuses_is_device_refused_with_exception_3(
    simulator, tmp_path, database_url
):
    # The stop level as an engineer's direct command without the seeded ordering interlocks:
    # the PLC's own rule (stop < lead start) is what refuses it.
    text = seeded(simulator.ports[0])
    start = text.index("{name: setpoint.stop,")
    end = text.index("\n      - {name: setpoint.high_level", start)
    text = (
        text[:start]
        + (
            "{name: setpoint.stop, source: holding_register, address: 3, type: uint16, "
            "scale: 0.01, unit: m, writable: true, command: {mode: direct, min: 0, max: 5}}"
        )
        + text[end:]
    )
    async with running_station(tmp_path, text, database_url) as station:
        plc = simulator.stations[0].setpoints
        above = round(plc.lead_start + 0.2, 2)

        answer = await station.post("erin", "/commands", {"tag": "setpoint.stop", "value": above})

    assert answer.status_code == 200, answer.text
    assert (answer.json()["state"], answer.json()["exception_code"]) == ("device_refused", 3)
    assert simulator.stations[0].setpoints.stop != above


async def test_an_offline_plc_fails_the_command_within_the_device_timeout(station, simulator):
    simulator.set_scenario(parse_scenario("offline:1m"))

    answer = await station.post("erin", "/commands", {"tag": "setpoint.high_pressure",
                                                      "value": 4.0})  # fmt: skip

    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["state"] == "failed"
    # Bounded by the device (timeout 1 s: the request ahead, the write, its read-back), never
    # a 30 s hang; the margin is for a busy machine.
    assert result["seconds"] < 3 * 1.0 + 2.0


async def test_a_flaky_link_never_leaves_half_a_float(station, simulator):
    simulator.set_scenario(parse_scenario("flaky"))
    sent = [simulator.stations[0].setpoints.high_pressure]
    for number in range(12):
        value = 2.0 + number * 0.375  # exact in float32
        answer = await station.post("erin", "/commands", {"tag": "setpoint.high_pressure",
                                                          "value": value})  # fmt: skip
        assert answer.status_code == 200, answer.text
        assert answer.json()["state"] in ("confirmed", "failed", "device_refused")
        sent.append(value)
        low, high = await asyncio.to_thread(foreign_read, simulator.ports[0], 32, 2)
        held = struct.unpack(">f", struct.pack(">HH", high, low))[0]
        assert held in sent, f"{held} is none of the values sent: half a float"


async def test_who_may_select_and_operate(station, simulator):
    viewer = await station.post("vera", "/commands", {"tag": "pump1.hoa", "value": "Off"})
    first = await station.post("alice", "/commands", {"tag": "pump1.hoa", "value": "Hand"})
    second = await station.post("bob", "/commands", {"tag": "pump1.hoa", "value": "Off"})
    stolen = await station.post("bob", f"/commands/{first.json()['id']}/operate")
    engineer_only = await station.post("alice", "/commands", {"tag": "setpoint.stop",
                                                              "value": 0.6})  # fmt: skip

    assert (viewer.status_code, viewer.json()["rule"]) == (403, "role")
    assert first.status_code == 201
    assert (second.status_code, second.json()["rule"]) == (409, "reserved")
    assert (stolen.status_code, stolen.json()["rule"]) == (403, "owner")
    assert (engineer_only.status_code, engineer_only.json()["rule"]) == (403, "role")
    assert writes(simulator) == 0


async def test_the_audit_trail_of_commands_verifies_with_pstg_audit_verify(station, simulator):
    await station.command("alice", "pump1.hoa", "Auto")
    await station.post("vera", "/commands", {"tag": "pump1.hoa", "value": "Off"})
    config = Path(station.gateway.config_path)

    result = await run_pstg("audit", "verify", "-c", str(config), limit=120)

    assert result.returncode == 0, result.stdout + result.stderr


async def test_command_tags_say_who_may_command_and_which_interlocks_hold_now(station):
    vera = await station.get("vera", "/commands/tags", tag=["pump2.remote_run", "setpoint.stop"])
    alice = await station.get("alice", "/commands/tags", tag="pump2.remote_run")

    assert vera.status_code == 200, vera.text
    by_tag = {item["tag"]: item for item in vera.json()}
    assert set(by_tag) == {"pump2.remote_run", "setpoint.stop"}
    run = by_tag["pump2.remote_run"]
    assert (run["role"], run["allowed"], run["mode"]) == ("operator", False, "sbo")
    assert alice.json()[0]["allowed"] is True
    assert run["readback"]["tag"] == "pump2.running"
    interlocks = {item["tag"]: item for item in run["interlocks"]}
    assert interlocks["pump2.auto"]["message"] == "pump 2 is not in Auto"
    for name, interlock in interlocks.items():  # as the live values say
        live = station.gateway.live.get(name)
        assert interlock["holds"] == (live is not None and live.value == 1), interlock
        assert (interlock["problem"] is None) == interlock["holds"]
    stop = by_tag["setpoint.stop"]
    assert (stop["role"], stop["min"], stop["max"]) == ("engineer", 0.51, 4.98)
    assert [item["operand"] for item in stop["interlocks"]] == ["value", "value"]
    assert stop["latest"]["quality"] == "good"
