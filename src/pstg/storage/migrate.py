"""Schema versions: bring a database to the current revision, or refuse to run on an old one.

Alembic owns the schema. We drive it programmatically with an open connection (no alembic.ini
to find), so `pstg migrate` works from any folder and against any URL.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from pstg.errors import Conflict

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaOutOfDate(Conflict):
    """The database's schema is not the one this version of PSTG needs.

    `reason` says how it differs; `migratable` is true when `pstg migrate` brings it to the
    current version. The message then ends with that advice; a caller that knows the exact
    command (with the config path the user gave) builds its own from `reason`.
    """

    def __init__(self, reason: str, *, migratable: bool) -> None:
        super().__init__(f"{reason}: run `pstg migrate` first" if migratable else reason)
        self.reason = reason
        self.migratable = migratable


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    script = ScriptDirectory.from_config(_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def current_revision(engine: Engine) -> str | None:
    """The database's revision; None for a database without a PSTG schema."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate to `revision`; returns (before, after). Idempotent: at head it does nothing."""
    before = current_revision(engine)
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)
    return before, current_revision(engine)


def check_current(engine: Engine, where: str) -> None:
    """Raise SchemaOutOfDate, saying to run `pstg migrate`, unless the schema is at head."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaOutOfDate(f"{where} has no PSTG schema yet", migratable=True)
    if current not in revisions():
        raise SchemaOutOfDate(
            f"{where} is at schema revision {current}, which this PSTG does not know "
            f"(newer software wrote it?); this version needs {head}",
            migratable=False,
        )
    raise SchemaOutOfDate(
        f"{where} is at schema revision {current}, this PSTG needs {head}", migratable=True
    )
