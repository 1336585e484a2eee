"""Select-before-operate through the API of a running gateway, against a real Modbus server on
127.0.0.1 and a real database (both backends): outcomes, interlocks, reservations, refusals
with their rule, and every step in the audit log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pstg.audit.verify import verify
from pstg.model import RegisterTable
from pstg.storage.database import create_engine
from tests.commands.conftest import RunningStation, running_station
from tests.support.modbus_server import ModbusTestServer

HR, COIL, DI = RegisterTable.HOLDING_REGISTER, RegisterTable.COIL, RegisterTable.DISCRETE_INPUT
WRITE_CODES = (5, 6, 15, 16)

CONFIG = """\
station: {id: ps-cmd}
storage: {url: '{database}', spool: spool.db}
api: {port: {api_port}}
devices:
  - id: plc1
    port: %(port)d
    poll_interval: 100ms
    timeout: 1s
    tags:
      - {name: sp, source: holding_register, address: 0, type: float32, word_order: little,
         writable: true, command: {min: 0, max: 10, readback: {tolerance: 0.001}}}
      - {name: trim, source: holding_register, address: 2, scale: 0.1, writable: true,
         command: {mode: direct, max: 100}}
      - {name: hoa, source: holding_register, address: 3, writable: true,
         command: {values: {0: Off, 1: Hand, 2: Auto}}}
      - {name: slow, source: holding_register, address: 4, writable: true,
         command: {max: 100, select_timeout: 300ms}}
      - {name: run, source: coil, address: 0, writable: true,
         command: {interlocks: [{tag: auto, equals: true, message: "the pump is not in Auto"}],
                   readback: {tag: running, timeout: 1500ms}, min_interval: 1h}}
      - {name: reset, source: coil, address: 1, writable: true, command: {pulse: true}}
      - {name: auto, source: discrete_input, address: 0}
      - {name: running, source: discrete_input, address: 1}
alarms:
  - {tag: run, kind: command_failed, priority: high, message: "the pump did not follow"}
"""


@pytest.fixture
async def server() -> AsyncIterator[ModbusTestServer]:
    async with ModbusTestServer() as served:
        yield served


@pytest.fixture
async def station(
    server: ModbusTestServer, tmp_path: Path, database_url: str
) -> AsyncIterator[RunningStation]:
    async with running_station(tmp_path, CONFIG % {"port": server.port}, database_url) as up:
        await up.reading("auto", lambda value: value is not None)
        yield up


def writes(server: ModbusTestServer) -> int:
    return sum(server.request_count(1, code) for code in WRITE_CODES)


async def test_a_set_point_is_selected_operated_and_confirmed(station, server):
    selected, operated = await station.command("erin", "sp", 7.25, "raise for the storm")

    assert selected.status_code == 201, selected.text
    assert selected.json()["state"] == "selected"
    assert selected.json()["expires_at"] is not None
    assert operated is not None
    assert operated.status_code == 200, operated.text
    result = operated.json()
    assert (result["state"], result["read_back"]) == ("confirmed", 7.25)
    # float32 in CDAB order: 7.25 = 0x40E80000, low word first, in one FC16 request.
    assert await server.get_values(1, HR, 0, 2) == [0x0000, 0x40E8]
    assert server.request_count(1, 16) == 1
    assert server.request_count(1, 6) == 0
    assert await station.reading("sp", lambda value: value == 7.25) == 7.25
    journal = (await station.get("vera", "/commands", tag="sp")).json()["commands"]
    assert [(c["state"], c["user"], c["comment"]) for c in journal] == [
        ("confirmed", "erin", "raise for the storm")
    ]


async def test_a_refused_value_says_the_rule_and_writes_nothing(station, server):
    answer = await station.post("erin", "/commands", {"tag": "sp", "value": 12})

    assert answer.status_code == 422
    assert answer.json()["rule"] == "range"
    assert "above the command maximum 10" in answer.json()["detail"]
    assert writes(server) == 0
    [refused] = (await station.get("erin", "/commands", state="refused")).json()["commands"]
    assert (refused["tag"], refused["rule"]) == ("sp", "range")


async def test_an_enumeration_takes_its_labels(station, server):
    selected, operated = await station.command("alice", "hoa", "auto")

    assert selected.json()["value"] == 2
    assert selected.json()["label"] == "Auto"
    assert operated is not None
    assert operated.json()["state"] == "confirmed"
    assert await server.get_values(1, HR, 3, 1) == [2]


async def test_the_interlock_refuses_at_select_and_nothing_is_written(station, server):
    answer = await station.post("alice", "/commands", {"tag": "run", "value": True})

    assert answer.status_code == 409
    assert answer.json()["rule"] == "interlock"
    assert "the pump is not in Auto" in answer.json()["detail"]
    assert "auto is 0, must equal 1" in answer.json()["detail"]
    assert writes(server) == 0


async def test_an_interlock_that_fails_between_select_and_operate_refuses_the_operate(
    station, server
):
    await server.set_values(1, DI, 0, [1])
    await station.reading("auto", lambda value: value == 1)
    selected = await station.post("alice", "/commands", {"tag": "run", "value": True})
    assert selected.status_code == 201, selected.text
    await server.set_values(1, DI, 0, [0])  # the selector left Auto
    await station.reading("auto", lambda value: value == 0)

    operated = await station.post("alice", f"/commands/{selected.json()['id']}/operate")

    assert operated.status_code == 409
    assert operated.json()["rule"] == "interlock"
    assert writes(server) == 0
    stored = (await station.get("alice", f"/commands/{selected.json()['id']}")).json()
    assert (stored["state"], stored["rule"]) == ("refused", "interlock")


async def test_a_run_command_is_confirmed_by_its_feedback(station, server):
    await server.set_values(1, DI, 0, [1])
    await station.reading("auto", lambda value: value == 1)

    async def pump_starts() -> None:
        # The server's register image has no change notification: poll it.
        while (await server.get_values(1, COIL, 0, 1)) != [1]:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        await server.set_values(1, DI, 1, [1])  # the PLC starts the pump

    starter = asyncio.create_task(pump_starts())
    _, operated = await station.command("alice", "run", True)
    await starter

    assert operated is not None
    assert operated.json()["state"] == "confirmed", operated.text
    assert operated.json()["read_back"] == 1
    assert (await station.get("vera", "/alarms", state="active")).json()["alarms"] == []
    # min_interval: 1h between two operates of the run command.
    again = await station.post("alice", "/commands", {"tag": "run", "value": False})
    assert again.status_code == 409
    assert again.json()["rule"] == "min_interval"


async def test_a_feedback_that_does_not_follow_is_not_confirmed(station, server):
    await server.set_values(1, DI, 0, [1])
    await station.reading("auto", lambda value: value == 1)

    _, operated = await station.command("alice", "run", True)

    assert operated is not None
    result = operated.json()
    assert result["state"] == "not_confirmed"
    assert "running did not reach True within 1.5 s" in result["detail"]
    assert await server.get_values(1, COIL, 0, 1) == [1]  # written, the plant did not follow
    alarms = (await station.get("vera", "/alarms", state="active")).json()["alarms"]
    assert [(a["id"], a["value"]) for a in alarms] == [("run.command_failed", 1.0)]


async def test_a_pulse_is_confirmed_when_the_device_takes_it(station, server):
    _, operated = await station.command("alice", "reset", 1)

    assert operated is not None
    assert operated.json()["state"] == "confirmed"
    assert server.request_count(1, 5) == 1


async def test_a_direct_command_is_one_request(station, server):
    answer = await station.post("erin", "/commands", {"tag": "trim", "value": 42.5})

    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "confirmed"
    assert answer.json()["mode"] == "direct"
    assert await server.get_values(1, HR, 2, 1) == [425]


async def test_a_modbus_exception_is_device_refused_with_its_code(station, server):
    server.refuse_writes = 3

    _, operated = await station.command("erin", "sp", 1.5)

    assert operated is not None
    result = operated.json()
    assert (result["state"], result["exception_code"]) == ("device_refused", 3)


async def test_one_selection_per_tag_and_only_its_user_operates_it(station, server):
    first = await station.post("alice", "/commands", {"tag": "hoa", "value": 1})
    assert first.status_code == 201
    command_id = first.json()["id"]

    second = await station.post("bob", "/commands", {"tag": "hoa", "value": 0})
    stolen = await station.post("bob", f"/commands/{command_id}/operate")
    viewer = await station.post("vera", "/commands", {"tag": "hoa", "value": 0})

    assert second.status_code == 409
    assert second.json()["rule"] == "reserved"
    assert "selected by alice" in second.json()["detail"]
    assert stolen.status_code == 403
    assert stolen.json()["rule"] == "owner"
    assert viewer.status_code == 403
    assert viewer.json()["rule"] == "role"
    cancelled = await station.post("alice", f"/commands/{command_id}/cancel")
    assert cancelled.json()["state"] == "cancelled"
    assert (await station.post("bob", "/commands", {"tag": "hoa", "value": 0})).status_code == 201
    assert writes(server) == 0


async def test_an_expired_selection_cannot_be_operated(station, server):
    selected = await station.post("erin", "/commands", {"tag": "slow", "value": 5})
    await asyncio.sleep(0.5)  # select_timeout is 300 ms

    operated = await station.post("erin", f"/commands/{selected.json()['id']}/operate")

    assert operated.status_code == 409
    assert operated.json()["rule"] == "expired"
    assert writes(server) == 0
    stored = (await station.get("erin", f"/commands/{selected.json()['id']}")).json()
    assert stored["state"] == "expired"


async def test_every_step_is_audited_and_the_chain_verifies(station, database_url):
    await station.command("erin", "sp", 3.5)
    await station.post("vera", "/commands", {"tag": "hoa", "value": 0})

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT action, result, actor FROM audit_log WHERE action LIKE 'command.%' "
                        "ORDER BY id")
            ).all()  # fmt: skip
        assert [tuple(row) for row in rows] == [
            ("command.select", "ok", "erin"),
            ("command.operate", "ok", "erin"),
            ("command.result", "ok", "erin"),
            ("command.select", "denied", "vera"),
        ]
        assert verify(engine).ok
    finally:
        engine.dispose()


async def test_no_write_when_the_audit_row_cannot_be_written(station, server, database_url):
    selected = await station.post("erin", "/commands", {"tag": "sp", "value": 4})
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            refuse_audit_rows(connection)

        operated = await station.post("erin", f"/commands/{selected.json()['id']}/operate")
    finally:
        engine.dispose()

    assert operated.status_code == 503
    assert operated.json()["rule"] == "audit"
    assert "not written" in operated.json()["detail"]
    assert writes(server) == 0


def refuse_audit_rows(connection: sa.Connection) -> None:
    """From now on the database refuses every new audit row (a full disk, a broken table)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
        )
        return
    connection.exec_driver_sql(
        "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit refused'; END $$"
    )
    connection.exec_driver_sql(
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION refuse_audit()"
    )


async def test_two_users_selecting_at_once_get_one_selection(station, server):
    answers = await asyncio.gather(
        station.post("alice", "/commands", {"tag": "hoa", "value": 1}),
        station.post("bob", "/commands", {"tag": "hoa", "value": 2}),
    )

    assert sorted(answer.status_code for answer in answers) == [201, 409]


async def test_selecting_again_replaces_your_own_selection(station, server):
    first = await station.post("alice", "/commands", {"tag": "hoa", "value": 1})
    second = await station.post("alice", "/commands", {"tag": "hoa", "value": 2})
    other = await station.post("bob", "/commands", {"tag": "hoa", "value": 0})

    assert (first.status_code, second.status_code, other.status_code) == (201, 201, 409)
    replaced = (await station.get("alice", f"/commands/{first.json()['id']}")).json()
    assert (replaced["state"], replaced["detail"]) == ("cancelled", "replaced by a new selection")
    late = await station.post("alice", f"/commands/{first.json()['id']}/operate")
    assert late.status_code == 409
    operated = await station.post("alice", f"/commands/{second.json()['id']}/operate")
    assert operated.json()["state"] == "confirmed"
    assert await server.get_values(1, HR, 3, 1) == [2]
