"""`pstg audit verify` and `pstg audit list` as a user reads them: counts in good English, and
every value whole on an 80-column terminal."""

from __future__ import annotations

from typer.testing import CliRunner, Result

from pstg.cli import app
from tests.cli.conftest import run_pstg

LONG_NAME = "night_shift_operator_on_call"


def pstg(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"PSTG_PASSWORD": "a-long-passphrase-42"})


def seeded(tmp_path, *users: str) -> str:
    config = str(tmp_path / "station.yaml")
    assert pstg("seed", "-o", config).exit_code == 0
    assert pstg("migrate", "-c", config).exit_code == 0
    for name in users:
        added = pstg("users", "add", name, "--role", "operator", "-c", config)
        assert added.exit_code == 0, added.output
    return config


def test_verify_counts_in_good_english(tmp_path) -> None:
    config = seeded(tmp_path, "alice")
    one = pstg("audit", "verify", "-c", config)
    assert one.exit_code == 0, one.output
    assert "audit log intact: 1 row checked" in one.output
    pstg("users", "add", "bob", "--role", "viewer", "-c", config)
    assert "audit log intact: 2 rows checked" in pstg("audit", "verify", "-c", config).output


async def test_list_shows_every_value_whole_on_80_columns(tmp_path) -> None:
    config = seeded(tmp_path, "alice", LONG_NAME)
    narrow = await run_pstg("audit", "list", "-c", config, columns=80)
    assert narrow.returncode == 0, narrow.stderr
    assert all(len(line) <= 80 for line in narrow.stdout.splitlines()), narrow.stdout
    assert "…" not in narrow.stdout
    for value in (f"user:{LONG_NAME}", "user:alice", "user.add", "ok"):
        assert value in narrow.stdout
    # Wide enough, it is one table row per audit row.
    wide = await run_pstg("audit", "list", "-c", config, columns=200)
    assert wide.stdout.splitlines()[0].split() == [
        "id", "time", "actor", "role", "via", "source", "action", "target", "result", "detail",
    ]  # fmt: skip
    assert len(wide.stdout.splitlines()) == 3
