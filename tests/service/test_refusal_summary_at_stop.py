"""Issue 10, item 9: refusals past the audit's rate limit are summarized ("N more refused"),
and a clean stop writes the summary of the minute that was still open, so a flood just before
a stop is on record."""

from pathlib import Path

import httpx
import jwt

from pstg.audit import list_entries
from pstg.audit.refusals import PER_MINUTE, SUMMARY_ACTION
from pstg.config.loader import load_config
from pstg.service.gateway import Gateway
from pstg.storage.database import create_engine, database_url
from pstg.storage.migrate import upgrade
from tests.poller.conftest import free_port
from tests.support.modbus_server import ModbusTestServer


async def test_a_clean_stop_writes_the_summary_of_refusals_held_back(tmp_path: Path) -> None:
    api_port = free_port()
    async with ModbusTestServer() as server:
        path = tmp_path / "station.yaml"
        path.write_text(
            "station: {id: ps-refusals}\n"
            "storage: {url: 'sqlite:///pstg.db', spool: spool.db}\n"
            f"api: {{port: {api_port}}}\n"
            "devices:\n"
            f"  - {{id: plc1, port: {server.port}, tags: [{{name: t0, source: holding_register,"
            " address: 0}]}\n"
        )
        config = load_config(path)
        engine = create_engine(database_url(config, path))
        upgrade(engine)
        gateway = Gateway(config, path)
        await gateway.start()
        try:
            forged = {
                "Authorization": "Bearer "
                + jwt.encode({"sub": "x"}, "not the key" * 4, algorithm="HS256")
            }
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as client:
                for _ in range(PER_MINUTE + 7):
                    answer = await client.get("/api/v1/tags", headers=forged)
                    assert answer.status_code == 401
        finally:
            await gateway.stop()
    entries = [e for e in list_entries(engine, limit=1000) if e.action != "login"]
    engine.dispose()
    assert [e.action for e in entries].count("token.refused") == PER_MINUTE
    summaries = [e for e in entries if e.action == SUMMARY_ACTION]
    assert len(summaries) == 1
    assert summaries[0].new_value == {"refused": 7}
