"""Gateway.write_tag: the running gateway writes one tag through whatever polls its device."""

from pathlib import Path

import pytest

from pstg.config.loader import load_config
from pstg.errors import NotFound, Unavailable
from pstg.model import RegisterTable
from pstg.poller.writes import WriteStatus
from pstg.service.gateway import Gateway
from tests.support.modbus_server import ModbusTestServer


def station_file(folder: Path, port: int) -> Path:
    path = folder / "station.yaml"
    path.write_text(
        "station: {id: ps-write}\n"
        "storage: {url: 'sqlite:///pstg.db', spool: spool.db}\n"
        "devices:\n"
        "  - id: plc1\n"
        f"    port: {port}\n"
        "    poll_interval: 200ms\n"
        "    tags:\n"
        "      - {name: stop_level, source: holding_register, address: 4, type: float32,\n"
        "         word_order: little, writable: true}\n"
        "  - id: spare\n"
        f"    port: {port}\n"
        "    unit_id: 2\n"
        "    enabled: false\n"
        "    tags:\n"
        "      - {name: spare.sp, source: holding_register, address: 0, writable: true}\n"
    )
    return path


async def test_the_gateway_writes_through_its_poller(tmp_path: Path):
    async with ModbusTestServer(units=(1, 2)) as server:
        path = station_file(tmp_path, server.port)
        gateway = Gateway(load_config(path), path, serve_api=False, store=False)
        with pytest.raises(Unavailable, match="not polling"):
            await gateway.write_tag("stop_level", 0.8)
        await gateway.start()
        try:
            outcome = await gateway.write_tag("stop_level", 0.75)

            assert (outcome.status, outcome.confirmed) == (WriteStatus.WRITTEN, True)
            assert await server.get_values(1, RegisterTable.HOLDING_REGISTER, 4, 2) == [
                0x0000,
                0x3F40,
            ]  # 0.75 = 0x3F400000, low word first
            assert server.request_count(1, 16) == 1
            with pytest.raises(NotFound, match="no tag 'nope'"):
                await gateway.write_tag("nope", 1)
            with pytest.raises(Unavailable, match="disabled"):
                await gateway.write_tag("spare.sp", 1)
        finally:
            await gateway.stop()
