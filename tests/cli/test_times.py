"""Times and durations on the command line, case by case from the shared table
(tests/support/time_cases.py): `export --from`, `audit list --from`, `simulate --start` and the
`--duration` of run, demo and simulate all read the grammar of pstg.times.

In-process (CliRunner): every case is a parse and a small query, not a process start."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner, Result

from pstg.cli import app
from pstg.model import GOOD_CODE
from pstg.storage.catalog import sync_catalog
from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade
from pstg.storage.rows import StoredRow
from pstg.storage.store import SampleStore
from pstg.times import format_micros, to_micros
from tests.poller.conftest import free_port
from tests.storage.test_transfer import station
from tests.support.time_cases import DURATIONS, INSTANTS, Accepted, Refused

FAR = "now+1000w"
US = timedelta(microseconds=1)


def pstg(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> str:
    """wet_well.level sampled at each exact instant of the table and 1 µs before it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('times') / 'pstg.db'}"
    engine = create_engine(url)
    upgrade(engine)
    tag = sync_catalog(engine, station()).tag_ids["wet_well.level"]
    moments = {
        to_micros(case.value) + offset
        for case in INSTANTS
        if isinstance(case, Accepted) and isinstance(case.value, datetime) and not case.relative
        for offset in (-1, 0)
    }
    rows = [StoredRow(tag, ts, 1.0, None, GOOD_CODE, 0) for ts in sorted(moments)]
    SampleStore(engine).write(rows)
    engine.dispose()
    return url


@pytest.mark.parametrize("case", INSTANTS, ids=lambda case: repr(case.text[:40]))
def test_export_from(case: Accepted | Refused, database: str) -> None:
    if isinstance(case, Refused):
        result = pstg("export", "--database", database, "--from", case.text)
        assert result.exit_code == 2, result.output  # invalid input
        assert "error: --from: " in result.output
        assert case.message in result.output
        return
    if case.relative:
        result = pstg("export", "--database", database, "--from", case.text, "--to", FAR)
        assert result.exit_code == 0, result.output
        return
    assert isinstance(case.value, datetime)
    moment = to_micros(case.value)
    result = pstg(
        "export", "--database", database, "--from", case.text, "--to", format_micros(moment + 1)
    )
    assert result.exit_code == 0, result.output
    # --from is inclusive: the sample at that instant, not the one a microsecond before.
    assert [line.split(",")[1] for line in result.output.splitlines()[1:-1]] == [
        format_micros(moment)
    ]


def test_audit_list_reads_the_same_times(database: str) -> None:
    for case in INSTANTS:
        result = pstg("audit", "list", "--database", database, "--from", case.text, "--to", FAR)
        if isinstance(case, Accepted):
            assert result.exit_code == 0, (case, result.output)
        else:
            assert result.exit_code == 2, (case, result.output)
            assert case.message in result.output, case


@pytest.mark.parametrize("command", ["run", "demo", "simulate"])
def test_durations_of_run_demo_and_simulate(command: str, tmp_path) -> None:
    missing = str(tmp_path / "missing.yaml")
    for case in DURATIONS:
        # Options are read before the command starts; run then stops at the missing config,
        # demo and simulate at a --dir / --port they cannot use.
        args = {
            "run": ["-c", missing],
            "demo": ["--dir", str(tmp_path / "file"), "--port", "0"],
            "simulate": ["--port", "0"],
        }[command]
        result = pstg(command, "--duration", case.text, *args)
        if isinstance(case, Accepted):
            assert "Invalid value for '--duration'" not in result.output, (case, result.output)
        else:
            assert result.exit_code == 2, (case, result.output)
            assert "Invalid value for '--duration'" in result.output, case
            assert case.message in result.output, case


def test_simulate_start_takes_an_offset_or_now() -> None:
    port = str(free_port())
    common = ("--port", port, "--duration", "0", "--status-every", "0")
    started = pstg("simulate", "--start", "2026-03-02T08:00+02:00", *common)
    assert started.exit_code == 0, started.output
    assert "simulated time from 2026-03-02T06:00:00Z" in started.output
    assert pstg("simulate", "--start", "now-1d", *common).exit_code == 0
    naive = pstg("simulate", "--start", "2026-03-02T06:00", *common)
    assert naive.exit_code == 2
    assert "has no UTC offset; add Z (UTC) or +hh:mm" in naive.output


def test_simulate_start_takes_the_issues_form_without_seconds() -> None:
    # Issue 10, item 20 names this very form as refused; docs/simulator.md shows it.
    started = pstg(
        "simulate", "--start", "2026-03-02T06:00Z",
        "--port", str(free_port()), "--duration", "0", "--status-every", "0",
    )  # fmt: skip
    assert started.exit_code == 0, started.output
    assert "simulated time from 2026-03-02T06:00:00Z" in started.output
