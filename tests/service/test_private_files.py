"""Issue 10, item 6: the files that hold secrets are created 0600 — the database (with its WAL
and shared-memory files), the spool and the station config written by `pstg seed` — and the
service warns at start about one that others can read (the config, the database, the
spool)."""

import stat

from tests.cli.conftest import run_pstg
from tests.service.conftest import migrate, running, wait_until_serving, write_station


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


async def test_database_wal_shm_and_spool_are_private_and_a_readable_config_is_reported(
    modbus_server, tmp_path
):
    config = write_station(tmp_path, modbus_server.port)
    config.chmod(0o644)
    await migrate(config)
    async with running(config) as process:
        await wait_until_serving(process, config)
        files = ["pstg.db", "pstg.db-wal", "pstg.db-shm", "spool.db"]
        modes = {name: mode(tmp_path / name) for name in files}
        process.terminate()
        _, err = await process.communicate()
    assert modes == dict.fromkeys(files, 0o600)
    assert f"the station config {config} is readable by others (mode 644)" in err.decode()


async def test_seed_writes_a_private_config(tmp_path):
    result = await run_pstg("seed", "-o", str(tmp_path / "station.yaml"), limit=120)
    assert result.returncode == 0, result.stderr
    assert mode(tmp_path / "station.yaml") == 0o600


async def test_migrate_creates_a_private_database(tmp_path):
    result = await run_pstg("migrate", "--database", f"sqlite:///{tmp_path}/new.db", limit=120)
    assert result.returncode == 0, result.stderr
    assert mode(tmp_path / "new.db") == 0o600


async def test_a_database_or_spool_readable_by_others_is_reported_at_start(modbus_server, tmp_path):
    config = write_station(tmp_path, modbus_server.port)
    config.chmod(0o600)  # only the database and the spool are in question here
    await migrate(config)
    first = await run_pstg("run", "-c", str(config), "--duration", "0.5", limit=120)
    assert first.returncode == 0, first.stderr
    database, spool = tmp_path / "pstg.db", tmp_path / "spool.db"
    assert "readable by others" not in first.stderr  # created private: nothing to report
    database.chmod(0o644)  # as an older PSTG, a copy or a restore may have left them
    spool.chmod(0o640)  # the group alone is enough to read the JWT secret or the readings

    result = await run_pstg("run", "-c", str(config), "--duration", "0.5", limit=120)
    assert result.returncode == 0, result.stderr  # a warning, not a refusal
    warnings = [line for line in result.stderr.splitlines() if "readable by others" in line]
    assert len(warnings) == 2, result.stderr
    assert f"the database {database} is readable by others (mode 644)" in warnings[0]
    assert f"chmod 600 {database}" in warnings[0]
    assert f"the spool {spool} is readable by others (mode 640)" in warnings[1]
    # Reported, not changed behind the owner's back.
    assert (mode(database), mode(spool)) == (0o644, 0o640)
