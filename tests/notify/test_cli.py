"""`pstg notify test` as a process, against aiosmtpd and a real database (both backends)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.audit.tables import audit_log
from pstg.notify import journal
from pstg.notify.tables import notification_attempts
from tests.cli.conftest import run_pstg
from tests.notify.servers import Mailbox, free_tcp_port, start_smtp


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    controller, mailbox = start_smtp()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


def write_config(folder: Path, database_url: str, smtp_port: int) -> Path:
    path = folder / "station.yaml"
    path.write_text(
        f"""\
station: {{id: ps-01, name: Pump Station 1}}
storage: {{url: "{database_url}"}}
devices:
  - id: plc1
    tags: [{{name: wet_well.level, source: holding_register, address: 0}}]
notifications:
  email: {{host: 127.0.0.1, port: {smtp_port}, security: none, sender: pstg@localhost,
           timeout: 5s}}
  people:
    - {{name: alice, email: alice@localhost}}
    - {{name: bob, email: bob@localhost}}
  groups:
    - {{name: operators, members: [alice, bob]}}
  routes:
    - {{name: all, levels: [{{to: [operators]}}]}}
"""
    )
    return path


async def test_notify_test_mails_a_group_journals_and_audits(
    engine: Engine, database_url: str, tmp_path: Path, smtp
) -> None:
    port, mailbox = smtp
    config = write_config(tmp_path, database_url, port)
    done = await run_pstg("notify", "test", "--to", "operators", "-c", str(config),
                          "--comment", "new SMTP relay")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "delivered: email to alice" in done.stdout
    assert "delivered: email to bob" in done.stdout
    assert sorted(m["To"] for m in mailbox.messages) == ["alice@localhost", "bob@localhost"]
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(notification_attempts.c.recipient, notification_attempts.c.kind,
                      notification_attempts.c.result)
        ).all()  # fmt: skip
        audited = connection.execute(
            sa.select(audit_log.c.action, audit_log.c.target, audit_log.c.via, audit_log.c.result)
        ).all()
    assert sorted(tuple(r) for r in rows) == [
        ("alice", "test", "delivered"),
        ("bob", "test", "delivered"),
    ]
    assert [tuple(r) for r in audited] == [("notify.test", "notify:operators", "cli", "ok")]


async def test_notify_test_fails_for_a_dead_server_and_an_unknown_name(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, database_url, free_tcp_port())
    down = await run_pstg("notify", "test", "--to", "alice", "-c", str(config))
    assert down.returncode == 1
    assert "FAILED: email to alice" in down.stdout
    unknown = await run_pstg("notify", "test", "--to", "mallory", "-c", str(config))
    assert unknown.returncode == 10
    assert "no person, group or rota named 'mallory'" in unknown.stderr
    rows = journal.read(engine, 1, recipient="alice")
    assert [r["result"] for r in rows] == ["failed"]
