"""`pstg poll` against real servers: raw and decoded output, and one exit status per failure."""

import pytest

from pstg.codec import encode_value
from pstg.model import DataType, Endian, RegisterTable
from tests.cli.conftest import run_pstg
from tests.poller.conftest import free_port
from tests.support.modbus_server import GarbageServer, SilentServer

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
