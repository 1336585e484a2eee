"""`pstg poll` against real servers: raw and decoded output, one exit status per failure, and the
commissioning extras (round trip, --json, --write, serial settings over a pty pair)."""

import asyncio
import json
import os
import pty
import re

import pytest

from pstg.codec import encode_value
from pstg.config.models import DeviceConfig
from pstg.model import DataType, Endian, RegisterTable
from tests.cli.conftest import pstg_executable, run_pstg
from tests.poller.conftest import free_port
from tests.support.modbus_server import GarbageServer, SilentServer
from tests.support.serial_line import CharFormat, SerialModbusServer

HR = RegisterTable.HOLDING_REGISTER


async def test_poll_prints_raw_words_and_every_word_order(modbus_server):
    words = encode_value(3.25, DataType.FLOAT32, word_order=Endian.LITTLE, byte_order=Endian.BIG)
    await modbus_server.set_values(1, HR, 10, words)
    target = f"{modbus_server.host}:{modbus_server.port}"
    result = await run_pstg("poll", target, "--address", "10", "--count", "2", "--type", "float32")
    assert result.returncode == 0, result.stderr
    assert "0x4050" in result.stdout  # the raw high word of 3.25
    rows = {
        line.split("(")[0].strip(" │|"): line
        for line in result.stdout.splitlines()
        if "word " in line
    }
    assert set(rows) == {"ABCD", "CDAB", "BADC", "DCBA"}
    assert "3.25" in rows["CDAB"]
    assert "3.25" not in rows["ABCD"]


async def test_poll_with_word_order_shows_only_that_order(modbus_server):
    await modbus_server.set_values(1, HR, 0, [0xFFFF, 0xFFFE])
    target = f"{modbus_server.host}:{modbus_server.port}"
    result = await run_pstg(
        "poll", target, "--count", "2", "--type", "int32", "--word-order", "big"
    )
    assert result.returncode == 0, result.stderr
    assert "-2" in result.stdout
    assert "CDAB" not in result.stdout


async def test_poll_reads_coils(modbus_server):
    await modbus_server.set_values(1, RegisterTable.COIL, 4, [1, 0, 1])
    target = f"{modbus_server.host}:{modbus_server.port}"
    result = await run_pstg("poll", target, "--source", "coil", "--address", "4", "--count", "3")
    assert result.returncode == 0, result.stderr
    rows = [line.strip("│ ").split("│") for line in result.stdout.splitlines() if "│" in line]
    assert [(a.strip(), b.strip()) for a, b in rows] == [("4", "1"), ("5", "0"), ("6", "1")]


@pytest.mark.parametrize(
    ("failure", "status", "words"),
    [
        ("refused", 3, "connect_failed"),
        ("silent", 4, "timeout"),
        ("exception", 5, "illegal data address"),
        ("garbage", 6, "malformed_response"),
    ],
)
async def test_poll_says_plainly_which_failure_it_was(modbus_server, failure, status, words):
    address = "0"
    if failure == "refused":
        result = await run_pstg("poll", f"127.0.0.1:{free_port()}", "--timeout", "1")
    elif failure == "silent":
        async with SilentServer() as silent:
            result = await run_pstg("poll", f"127.0.0.1:{silent.port}", "--timeout", "0.3")
    elif failure == "garbage":
        async with GarbageServer("wrong_count") as garbage:
            result = await run_pstg("poll", f"127.0.0.1:{garbage.port}", "--timeout", "0.5")
    else:
        address = "5000"  # beyond the test server's datastore
        result = await run_pstg("poll", f"127.0.0.1:{modbus_server.port}", "--address", address)
    assert result.returncode == status, (result.stdout, result.stderr)
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["127.0.0.1:notaport"], "invalid port"),
        (["127.0.0.1", "--address", "65535", "--count", "2"], "runs past register 65535"),
        (["127.0.0.1", "--count", "126"], "at most 125 registers"),
    ],
)
async def test_poll_rejects_bad_arguments_with_one_line(args, message):
    result = await run_pstg("poll", *args)
    assert result.returncode == 1
    assert message in result.stderr


# --- commissioning: round trip, --json, --write, serial settings --------------------------


async def test_poll_prints_the_round_trip_time(modbus_server):
    result = await run_pstg("poll", f"127.0.0.1:{modbus_server.port}")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^round trip \d+(\.\d+)? ms, connect \d+(\.\d+)? ms$", result.stdout, re.M)


async def test_poll_json_has_the_documented_shape(modbus_server):
    words = encode_value(3.25, DataType.FLOAT32, word_order=Endian.LITTLE, byte_order=Endian.BIG)
    await modbus_server.set_values(1, HR, 10, words)
    target = f"127.0.0.1:{modbus_server.port}"
    result = await run_pstg(
        "poll", target, "-a", "10", "-n", "2", "-t", "float32", "--word-order", "little", "--json"
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    rtt, connect = document.pop("rtt_ms"), document.pop("connect_ms")
    assert rtt > 0
    assert connect > 0
    assert document == {
        "format": "pstg.poll/1",
        "ok": True,
        "target": target,
        "driver": "modbus-tcp",
        "unit": 1,
        "serial": None,
        "source": "holding_register",
        "address": 10,
        "count": 2,
        "type": "float32",
        "values": words,
        "decoded": [
            {
                "word_order": "little",
                "byte_order": "big",
                "values": [{"address": 10, "value": 3.25}],
            }
        ],
        "write": None,
        "error": None,
    }


async def test_poll_json_reports_a_failure_with_its_kind_and_exit_status():
    async with SilentServer() as silent:
        result = await run_pstg("poll", f"127.0.0.1:{silent.port}", "--timeout", "0.3", "--json")
    assert result.returncode == 4
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["values"] is None
    assert document["rtt_ms"] is None
    assert document["error"]["kind"] == "timeout"
    assert document["error"]["exit_status"] == 4
    assert "no answer from unit 1" in document["error"]["message"]
    assert len(result.stderr.strip().splitlines()) == 1  # the one-line reason, as without --json


async def test_poll_writes_a_float32_in_one_fc16_request_and_reads_it_back(modbus_server):
    target = f"127.0.0.1:{modbus_server.port}"
    result = await run_pstg(
        "poll", target, "-a", "10", "-t", "float32", "--word-order", "little",
        "--write", "-12.5", "--yes", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = encode_value(-12.5, DataType.FLOAT32, word_order=Endian.LITTLE, byte_order=Endian.BIG)
    assert await modbus_server.get_values(1, HR, 10, 2) == written
    assert modbus_server.request_count(1, 16) == 1
    assert modbus_server.request_count(1, 6) == 0  # never half a value
    document = json.loads(result.stdout)
    assert document["write"]["values"] == written
    assert document["write"]["function_code"] == 16
    assert document["write"]["confirmed"] is True
    assert document["write"]["rtt_ms"] > 0
    assert document["values"] == written  # the read-back
    assert document["decoded"][0]["values"] == [{"address": 10, "value": -12.5}]


async def test_poll_writes_a_coil_and_reads_it_back(modbus_server):
    target = f"127.0.0.1:{modbus_server.port}"
    result = await run_pstg("poll", target, "-s", "coil", "-a", "4", "--write", "on", "--yes")
    assert result.returncode == 0, result.stderr
    assert await modbus_server.get_values(1, RegisterTable.COIL, 4, 1) == [1]
    assert modbus_server.request_count(1, 5) == 1
    assert "wrote coil 4 = 1 of unit 1 with function 5" in result.stdout
    assert "read back: confirmed" in result.stdout


async def test_poll_write_the_device_does_not_keep_exits_7(modbus_server):
    modbus_server.register_ceiling = 1000  # the device clamps what it is sent
    target = f"127.0.0.1:{modbus_server.port}"
    result = await run_pstg(
        "poll", target, "-a", "3", "-t", "uint32", "--word-order", "big",
        "--write", "70000", "--yes",
    )  # fmt: skip
    assert result.returncode == 7, result.stderr
    assert "read back: NOT confirmed" in result.stdout
    assert "not confirmed: wrote [1, 4464], read back [1, 1000]" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--write", "7"], "add --yes to confirm"),
        (["-t", "float32", "--write", "1.5", "-y"], "give --word-order big or little"),
        (["-s", "input_register", "--write", "1", "-y"], "input_register is read-only"),
        (["--write", "abc", "-y"], "not an integer"),
        (["--write", "70000", "-y"], "cannot write '70000' as uint16"),
        (["-t", "int32", "--word-order", "big", "-n", "1", "--write", "1", "-y"], "--count 1"),
        (["-s", "coil", "--write", "maybe", "-y"], "a bit takes 1/0, on/off or true/false"),
    ],
)
async def test_poll_write_refuses_what_it_cannot_do_safely(modbus_server, args, message):
    result = await run_pstg("poll", f"127.0.0.1:{modbus_server.port}", *args)
    assert result.returncode == 1
    assert message in result.stderr
    assert modbus_server.request_count() == 0  # nothing was sent


async def test_poll_serial_settings_reach_the_port(serial_line):
    async with SerialModbusServer(
        serial_line.device_url, units=(2,), baudrate=19200, parity="N", stopbits=2
    ) as device:
        await device.set_values(2, HR, 0, [17, 18])
        result = await run_pstg(
            "poll", serial_line.master_port, "--unit", "2", "--count", "2",
            "--baudrate", "19200", "--parity", "N", "--stopbits", "2", "--json",
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["driver"] == "modbus-rtu"  # from the /dev/ path
    assert document["serial"] == {
        "port": serial_line.master_port,
        "baudrate": 19200,
        "parity": "N",
        "stopbits": 2,
        "bytesize": 8,
    }
    assert document["values"] == [17, 18]
    assert serial_line.master_formats() == {CharFormat(19200, 8, "N", 2)}


async def test_poll_serial_defaults_are_the_config_defaults(serial_line):
    defaults = DeviceConfig.model_fields
    result = await run_pstg("poll", serial_line.master_port, "--timeout", "0.3", "--json")
    document = json.loads(result.stdout)
    assert document["serial"] == {
        "port": serial_line.master_port,
        **{key: defaults[key].default for key in ("baudrate", "parity", "stopbits", "bytesize")},
    }
    assert document["serial"]["parity"] == "E"
    # A pty cannot take even parity: said plainly, as a connection failure.
    assert result.returncode == 3
    assert "refused the settings 9600 8E1" in document["error"]["message"]
    assert f"[{serial_line.master_port}, unit 1]" in result.stderr  # plain text, not markup
    help_text = (await run_pstg("poll", "--help")).stdout
    assert "default as in station.yaml: E" in " ".join(help_text.split())


async def test_poll_serial_settings_need_the_serial_driver():
    result = await run_pstg("poll", "127.0.0.1:502", "--parity", "E")
    assert result.returncode == 1
    assert "--parity set a serial port (--driver modbus-rtu)" in result.stderr


@pytest.mark.parametrize(("answer", "status", "writes"), [("y\n", 0, 1), ("n\n", 1, 0)])
async def test_poll_write_asks_first_on_a_terminal(modbus_server, answer, status, writes):
    target = f"127.0.0.1:{modbus_server.port}"
    terminal, terminal_side = pty.openpty()
    process = await asyncio.create_subprocess_exec(
        pstg_executable(), "poll", target, "-a", "2", "--write", "9",
        stdin=terminal_side,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    os.close(terminal_side)
    try:
        os.write(terminal, answer.encode())  # the terminal keeps the line until it is read
        out, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        os.close(terminal)
    assert process.returncode == status, err
    assert b"write 9 to holding_register 2 of unit 1 at " + target.encode() + b"?" in err
    assert modbus_server.request_count(1, 6) == writes
    assert (b"read back: confirmed" in out) is bool(writes)
