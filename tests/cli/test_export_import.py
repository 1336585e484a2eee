"""`pstg export` and `pstg import` as a user runs them, on SQLite databases made in-process."""

import asyncio
import io

import pytest
import sqlalchemy as sa

from pstg.storage.catalog import sync_catalog
from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade
from pstg.storage.store import SampleStore
from pstg.storage.transfer.export import export_rows
from pstg.storage.transfer.writers import write_csv
from tests.cli.conftest import run_pstg
from tests.storage.test_transfer import sample_rows, station

SAMPLES = 15
HEADER = "tag,ts,value,quality,reason"


def make_database(path, *, with_samples: bool) -> str:
    """A migrated SQLite database with ps-01's tags (and sample_rows); its --database URL."""
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    upgrade(engine)
    ids = sync_catalog(engine, station()).tag_ids
    if with_samples:
        assert SampleStore(engine).write(sample_rows(ids)) == SAMPLES
    engine.dispose()
    return url


def csv_of(url: str) -> str:
    """Everything in the database, exported in-process."""
    engine = create_engine(url)
    out = io.StringIO(newline="")
    write_csv(export_rows(engine, tags=None, start=None, end=None, station=None), out)
    engine.dispose()
    return out.getvalue()


def stored(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = sum(
            int(connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
            for table in ("samples", "text_samples")
        )
    engine.dispose()
    return count


@pytest.fixture
def source(tmp_path) -> str:
    return make_database(tmp_path / "source.db", with_samples=True)


@pytest.fixture
def target(tmp_path) -> str:
    return make_database(tmp_path / "target.db", with_samples=False)


async def test_export_to_stdout_and_files_then_import_back(source, target, tmp_path):
    csv_file, jsonl_file = tmp_path / "out.csv", tmp_path / "out.jsonl"
    to_jsonl, to_csv = await asyncio.gather(
        run_pstg("export", "--database", source, "-o", str(jsonl_file)),
        run_pstg("export", "--database", source, "-o", str(csv_file)),
    )
    assert to_csv.returncode == 0, to_csv.stderr
    assert to_csv.stderr.strip() == f"exported {SAMPLES} samples of 3 tags to {csv_file}"
    assert to_jsonl.stderr.strip() == f"exported {SAMPLES} samples of 3 tags to {jsonl_file}"
    assert to_csv.stdout == ""
    assert csv_file.read_text(encoding="utf-8").splitlines()[0] == HEADER
    assert csv_file.read_text(encoding="utf-8") == csv_of(source)
    assert jsonl_file.read_text(encoding="utf-8").startswith('{"tag":"pump1.running"')
    assert list(tmp_path.glob(".*.part")) == []

    subset, into_target, into_source = await asyncio.gather(
        run_pstg(
            "export", "--database", source, "--tag", "pump1.running", "--tag", "station.name",
            "--from", "2026-05-28T20:26:40.000001Z", "--to", "2026-05-28T22:26:42+02:00",
            "--format", "jsonl",
        ),
        run_pstg("import", str(jsonl_file), "--database", target),
        run_pstg("import", str(csv_file), "--database", source, "--station", "ps-01"),
    )  # fmt: skip
    assert subset.returncode == 0, subset.stderr
    assert [line[:60] for line in subset.stdout.splitlines()] == [
        '{"tag":"pump1.running","ts":"2026-05-28T20:26:40.000001Z","v',
        '{"tag":"station.name","ts":"2026-05-28T20:26:41.000000Z","va',
    ]
    assert subset.stderr.strip() == "exported 2 samples of 2 tags to stdout"

    assert into_target.returncode == 0, into_target.stderr
    expected = f"imported {SAMPLES} new samples (0 already present) from {jsonl_file}"
    assert into_target.stderr.strip() == expected
    assert csv_of(target) == csv_of(source)

    # Importing what is already stored stores nothing.
    assert into_source.returncode == 0, into_source.stderr
    expected = f"imported 0 new samples ({SAMPLES} already present) from {csv_file}"
    assert into_source.stderr.strip() == expected
    assert stored(source) == SAMPLES


async def test_an_invalid_file_is_reported_line_by_line_and_not_imported(target, tmp_path):
    lines = [HEADER, "wet_well.level,2026-05-28T12:00:00Z,1.5,good,"]
    lines += [f"pump{i}.speed,2026-05-28T12:00:00Z,1,good," for i in range(60)]  # lines 3-62
    lines += ["wet_well.level,2026-05-28T12:00:01,2.5,good,"]  # line 63: no offset
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")

    other = make_database(tmp_path / "other.db", with_samples=False)
    refused, skipped = await asyncio.gather(
        run_pstg("import", str(bad), "--database", target),
        run_pstg("import", str(bad), "--database", other, "--skip-invalid"),
    )
    assert refused.returncode == 2  # invalid input (pstg.cli.errors)
    messages = refused.stderr.splitlines()
    assert messages[0].startswith(f"{bad}:3: unknown tag 'pump0.speed' (")
    assert f"{bad}:52: unknown tag 'pump49.speed'" in messages[49]
    assert messages[50] == "... and 11 more"
    assert messages[51] == (
        f"error: {bad}: 61 invalid lines, nothing imported (--skip-invalid imports the 1 valid one)"
    )
    assert stored(target) == 0

    assert skipped.returncode == 0, skipped.stderr
    assert f"{bad}:3: unknown tag" in skipped.stderr
    assert skipped.stderr.splitlines()[-1] == (
        f"imported 1 new sample (0 already present) from {bad}; skipped 61 invalid lines"
    )
    assert stored(other) == 1


async def test_usage_errors_say_what_is_wrong(source, tmp_path):
    text = tmp_path / "samples.txt"
    text.write_text(HEADER + "\n", encoding="utf-8")
    wrong_format, backwards, unknown_suffix = await asyncio.gather(
        run_pstg("export", "--database", source, "--format", "xml"),
        run_pstg("export", "--database", source, "--from", "now-1h", "--to", "now-2h"),
        run_pstg("import", str(text), "--database", source),
    )
    assert wrong_format.returncode == 2
    assert "Invalid value for '--format'" in wrong_format.stderr
    assert "'xml' is not one of 'csv', 'jsonl'" in wrong_format.stderr
    assert backwards.returncode == 2
    assert backwards.stderr.strip() == (
        "error: --from now-1h is not before --to now-2h: the range is empty (--to is exclusive)"
    )
    assert unknown_suffix.returncode == 2
    assert unknown_suffix.stderr.strip() == (
        f"error: {text}: cannot tell the format from the suffix; use --format csv or jsonl"
    )


def test_import_and_export_with_a_config_sync_its_tags_into_a_fresh_database(tmp_path):
    # In-process: the newcomer's path, seed → migrate → import, with no `pstg run` before.
    from typer.testing import CliRunner

    from pstg.cli import app

    config = tmp_path / "station.yaml"
    runner = CliRunner()
    assert runner.invoke(app, ["seed", "-o", str(config)]).exit_code == 0
    assert runner.invoke(app, ["migrate", "-c", str(config)]).exit_code == 0
    data = tmp_path / "level.csv"
    data.write_text(
        f"{HEADER}\nwet_well.level,2026-05-28T12:00:00Z,1.25,good,\n"
        "wet_well.level,2026-05-28T12:00:01Z,1.5,good,\n",
        encoding="utf-8",
    )
    imported = runner.invoke(app, ["import", str(data), "-c", str(config)])
    assert imported.exit_code == 0, imported.output
    assert "imported 2 new samples (0 already present)" in imported.output

    exported = runner.invoke(app, ["export", "-c", str(config), "--tag", "wet_well.level"])
    assert exported.exit_code == 0, exported.output
    assert "wet_well.level,2026-05-28T12:00:01.000000Z,1.5,good," in exported.output
    # A tag the config does not have is still refused, naming the station (the config's).
    unknown = runner.invoke(app, ["export", "-c", str(config), "--tag", "nope"])
    assert unknown.exit_code == 10  # not found
    assert "unknown tag 'nope' in station 'ls-01'" in unknown.output


def test_export_with_a_config_syncs_the_catalog_of_a_fresh_database_by_itself(tmp_path):
    # seed → migrate → export, nothing run or imported before: the tags come from -c alone.
    from typer.testing import CliRunner

    from pstg.cli import app
    from pstg.station import load_station

    config = tmp_path / "station.yaml"
    runner = CliRunner()
    assert runner.invoke(app, ["seed", "-o", str(config)]).exit_code == 0
    assert runner.invoke(app, ["migrate", "-c", str(config)]).exit_code == 0
    url = f"sqlite:///{tmp_path / 'pstg.db'}"
    # Without the config the fresh database knows no tag: what -c has to fix.
    bare = runner.invoke(app, ["export", "--database", url, "--tag", "wet_well.level"])
    assert bare.exit_code == 10, bare.output
    assert "unknown tag 'wet_well.level'" in bare.stderr

    window = ["--from", "2026-03-02T06:00Z", "--to", "2026-03-02T07:00Z"]
    exported = runner.invoke(app, ["export", "-c", str(config), "--tag", "wet_well.level", *window])
    assert exported.exit_code == 0, exported.output
    assert exported.stdout == f"{HEADER}\n"  # an empty range: the header only
    assert "exported 0 samples" in exported.stderr
    assert "unknown tag" not in exported.output

    every = runner.invoke(app, ["export", "-c", str(config), "-o", str(tmp_path / "all.jsonl")])
    assert every.exit_code == 0, every.output
    assert (tmp_path / "all.jsonl").read_text() == ""  # JSON Lines of nothing: no line
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            names = connection.execute(sa.text("SELECT name FROM tags")).scalars().all()
    finally:
        engine.dispose()
    station = load_station(config)
    configured = {tag.name for device in station.devices for tag in device.tags}
    assert set(names) == configured  # the config's catalog, synced by export
