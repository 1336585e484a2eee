"""`pstg migrate`: bring a database's schema to the version this PSTG needs."""

from __future__ import annotations

from pstg.cli.app import app, fail, one_line_errors, stderr
from pstg.cli.database_option import ConfigOption, DatabaseOption, resolve_database


@app.command()
def migrate(config: ConfigOption = None, database: DatabaseOption = None) -> None:
    """Create or upgrade the database schema; at the current version it does nothing."""
    import sqlalchemy as sa

    from pstg.storage.database import create_engine, describe
    from pstg.storage.migrate import head_revision, revisions, upgrade

    url = resolve_database(config, database)
    where = describe(url)
    with one_line_errors():
        engine = create_engine(url)
        try:
            before, after = upgrade(engine)
        except sa.exc.OperationalError as exc:
            fail(f"cannot reach {where}: {str(exc.orig).strip().splitlines()[0]}")
        finally:
            engine.dispose()
    if before == after:
        stderr.print(f"{where}: schema already at revision {after}, nothing to do")
    elif before is None:
        stderr.print(f"{where}: schema created at revision {after}")
    else:
        steps = revisions()
        count = steps.index(head_revision()) - steps.index(before)
        stderr.print(f"{where}: schema upgraded from {before} to {after} ({count} step(s))")
