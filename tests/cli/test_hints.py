"""Every hint names the exact command, with the config path that was used, and works as
printed: `pstg seed` → `pstg run -c FILE --migrate` on a database that does not exist yet;
`run` on an old database names `pstg migrate -c FILE` and `--migrate`, which upgrades it.

In-process (CliRunner): the gateway polls a port nobody listens on (bad-quality samples are
samples too) and stops after --duration, without the API."""

from __future__ import annotations

import re
import shlex
import sqlite3
from pathlib import Path

from typer.testing import CliRunner, Result

from pstg.cli import app
from pstg.storage.database import create_engine
from pstg.storage.migrate import current_revision, head_revision, revisions, upgrade
from tests.poller.conftest import free_port


def pstg(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def hinted(output: str) -> list[str]:
    """The commands a message tells the user to type (between backticks)."""
    return re.findall(r"`(pstg [^`]+)`", output)


def test_seed_names_the_config_and_its_hint_works_as_printed(tmp_path) -> None:
    config = tmp_path / "site a" / "ps.yaml"
    config.parent.mkdir()
    seeded = pstg("seed", "-o", str(config), "--port", str(free_port()))
    assert seeded.exit_code == 0, seeded.output
    simulate, run = hinted(seeded.output)
    assert simulate.startswith("pstg simulate --port ")
    assert run == f"pstg run -c {shlex.quote(str(config))} --migrate"
    assert not (config.parent / "pstg.db").exists()

    started = pstg(*shlex.split(run)[1:], "--duration", "0.5s", "--no-api", "--quiet")
    assert started.exit_code == 0, started.output
    assert "schema created at revision" in started.output
    with sqlite3.connect(config.parent / "pstg.db") as db:
        assert db.execute("SELECT COUNT(*) FROM samples").fetchone()[0] > 0


def old_database(tmp_path: Path) -> Path:
    """A seeded config whose database is one schema revision behind."""
    config = tmp_path / "station.yaml"
    assert pstg("seed", "-o", str(config), "--port", str(free_port())).exit_code == 0
    engine = create_engine(f"sqlite:///{tmp_path / 'pstg.db'}")
    upgrade(engine, revisions()[-2])
    engine.dispose()
    return config


def test_run_on_an_old_database_names_both_ways_out(tmp_path) -> None:
    config = old_database(tmp_path)
    refused = pstg("run", "-c", str(config), "--no-api")
    assert refused.exit_code == 11  # a conflict with the database's state
    assert hinted(refused.output) == [
        f"pstg migrate -c {config}",
        f"pstg run -c {config} --migrate",
    ]
    assert f"is at schema revision {revisions()[-2]}, this PSTG needs" in refused.output


def test_run_migrate_upgrades_an_old_database_then_runs(tmp_path) -> None:
    config = old_database(tmp_path)
    started = pstg("run", "-c", str(config), "--migrate", "--duration", "0.2", "--no-api")
    assert started.exit_code == 0, started.output
    assert f"schema upgraded from {revisions()[-2]} to {head_revision()} (1 step)" in (
        started.output
    )
    engine = create_engine(f"sqlite:///{tmp_path / 'pstg.db'}")
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_a_missing_database_names_the_options_that_chose_it(tmp_path) -> None:
    config = tmp_path / "my site.yaml"
    assert pstg("seed", "-o", str(config)).exit_code == 0
    by_config = pstg("users", "list", "-c", str(config))
    assert by_config.exit_code == 10  # not found
    assert hinted(by_config.output) == [f"pstg migrate -c '{config}'"]
    url = f"sqlite:///{tmp_path / 'none.db'}"
    by_url = pstg("export", "--database", url)
    assert by_url.exit_code == 10
    assert hinted(by_url.output) == [f"pstg migrate --database {url}"]
