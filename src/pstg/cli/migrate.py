"""`pstg migrate`: bring a database's schema to the version this PSTG needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pstg.cli.app import app, fail, one_line_errors, stderr
from pstg.cli.database_option import ConfigOption, DatabaseOption, resolve_database
from pstg.cli.errors import exit_code

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


@app.command()
def migrate(config: ConfigOption = None, database: DatabaseOption = None) -> None:
    """Create or upgrade the database schema; at the current version it does nothing."""
    url = resolve_database(config, database)
    with one_line_errors():
        stderr.print(migrate_database(url), markup=False)


def migrate_database(url: URL) -> str:
    """Bring the database at `url` to the current schema (creating it if it has none) and say
    what was done in one line; a one-line failure when it cannot be reached."""
    import sqlalchemy as sa

    from pstg.errors import Unavailable
    from pstg.storage.database import create_engine, describe
    from pstg.storage.migrate import head_revision, revisions, upgrade

    where = describe(url)
    engine = create_engine(url)
    try:
        before, after = upgrade(engine)
    except sa.exc.OperationalError as exc:
        fail(
            f"cannot reach {where}: {str(exc.orig).strip().splitlines()[0]}",
            exit_code(Unavailable),
        )
    finally:
        engine.dispose()
    if before == after:
        return f"{where}: schema already at revision {after}, nothing to do"
    if before is None:
        return f"{where}: schema created at revision {after}"
    steps = revisions()
    count = steps.index(head_revision()) - steps.index(before)
    return f"{where}: schema upgraded from {before} to {after} ({count} step{'s' * (count != 1)})"
