"""A request's deadline stops its SQLite statements (pstg.storage.deadline)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.storage.deadline import Deadline, current

COUNT_FAR = sa.text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
    "SELECT count(*) FROM n"
)


def test_a_statement_past_its_deadline_is_interrupted(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL statements end on their own")
    token = current.set(Deadline(time.monotonic() + 0.05))
    try:
        with (
            pytest.raises(sa.exc.OperationalError, match="interrupted"),
            engine.connect() as connection,
        ):
            connection.execute(COUNT_FAR).scalar_one()
    finally:
        current.reset(token)
    # Without a deadline (or once it is cleared) the same connections work as before.
    cleared = Deadline(time.monotonic() - 1)
    cleared.at = None
    token = current.set(cleared)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT 1")).scalar_one() == 1
    finally:
        current.reset(token)
