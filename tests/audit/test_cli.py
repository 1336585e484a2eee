"""`pstg audit verify` and `pstg audit list` as real processes, and the rows `pstg users` and
`pstg token` leave (the OS user as the actor), on both backends."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from pstg.audit import list_entries
from tests.audit.conftest import append, delete, update
from tests.cli.conftest import run_pstg

PASSWORD = "correct horse battery"


async def test_verify_exit_codes(engine: Engine, database_url: str) -> None:
    db = ("--database", database_url)
    empty = await run_pstg("audit", "verify", *db)
    assert (empty.returncode, empty.stdout) == (0, "")
    assert "audit log intact: 0 rows checked" in empty.stderr

    written = append(engine, 4)
    intact = await run_pstg("audit", "verify", *db)
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout == f"head 4:{written[-1].hash}\n"
    assert "audit log intact: 4 rows checked" in intact.stderr
    kept = intact.stdout.split()[1]
    assert (await run_pstg("audit", "verify", "--head", kept, *db)).returncode == 0

    update(engine, 2, action="user.delete")
    delete(engine, 4)
    damaged = await run_pstg("audit", "verify", "--head", kept, *db)
    assert damaged.returncode == 1
    assert damaged.stdout.splitlines() == [
        "row 2: edited: its content does not match its hash: changed after writing",
        "row 4: deleted: the exported head row 4 is missing: the end of the log was cut off "
        "or the log replaced",
        f"head 3:{written[2].hash}",
    ]
    assert "audit log damaged: 2 problems in 3 rows" in damaged.stderr
    assert "Traceback" not in damaged.stderr


async def test_verify_refuses_a_malformed_head(engine: Engine, database_url: str) -> None:
    result = await run_pstg("audit", "verify", "--head", "4:abc", "--database", database_url)
    assert result.returncode == 2  # invalid input
    assert "give ID:HASH as verify printed it" in result.stderr


async def test_cli_changes_are_audited_as_the_os_user(engine: Engine, database_url: str) -> None:
    db = ("--database", database_url)
    added = await run_pstg("users", "add", "ann", "-r", "viewer", "--password", PASSWORD, *db)
    assert added.returncode == 0, added.stderr
    assert (await run_pstg("users", "role", "ann", "operator", *db)).returncode == 0
    assert (await run_pstg("users", "disable", "ann", *db)).returncode == 0
    assert (
        await run_pstg("users", "passwd", "ann", "--password", "a new password", *db)
    ).returncode == 0
    created = await run_pstg("token", "create", "ann", "--name", "grafana", *db)
    assert created.returncode == 0, created.stderr
    assert (await run_pstg("token", "revoke", "1", *db)).returncode == 0
    refused = await run_pstg("users", "enable", "nobody", *db)
    assert refused.returncode == 1

    entries = list_entries(engine)
    minted = entries[4].new_value
    assert minted is not None
    left = datetime.fromisoformat(minted["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=89) < left <= timedelta(days=90)
    me = getpass.getuser()
    assert {(e.actor, e.role, e.via, e.source) for e in entries} == {(me, None, "cli", "cli")}
    assert [(e.action, e.target, e.new_value, e.result) for e in entries] == [
        ("user.add", "user:ann", {"role": "viewer", "enabled": True}, "ok"),
        ("user.update", "user:ann", {"role": "operator"}, "ok"),
        ("user.update", "user:ann", {"enabled": False}, "ok"),
        ("user.update", "user:ann", {"password": "(changed)"}, "ok"),
        (
            "token.create",
            "token:1",
            # The default expiry (90 days), and no role of its own: the user's.
            {"user": "ann", "name": "grafana", "role": None, "expires_at": minted["expires_at"]},
            "ok",
        ),
        ("token.revoke", "token:1", {"revoked_at": entries[5].new_value["revoked_at"]}, "ok"),
        ("user.update", "user:nobody", None, "failed"),
    ]
    token = created.stdout.strip()

    listed = await run_pstg("audit", "list", "--json", *db)
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [row["id"] for row in rows] == list(range(1, 8))
    assert rows[0]["actor"] == me
    assert rows[0]["ts"].endswith("Z")
    assert len(rows[0]["hash"]) == 64
    assert token not in listed.stdout
    assert PASSWORD not in listed.stdout

    table = await run_pstg("audit", "list", "--action", "user.update", "--limit", "2", *db)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == [
        "id", "time", "actor", "role", "via", "source", "action", "target", "result", "detail"
    ]  # fmt: skip
    assert [line.split()[0] for line in lines[1:]] == ["2", "3"]
    assert "the first 2 rows" in table.stderr

    nothing = await run_pstg("audit", "list", "--actor", "nobody", *db)
    assert (nothing.returncode, nothing.stdout) == (0, "")
    assert "no audit rows match" in nothing.stderr
    future = await run_pstg("audit", "list", "--from", "now", "--to", "now-1h", *db)
    assert future.returncode == 2  # invalid input
    assert "the range is empty" in future.stderr
