"""The last stored sample of each tag: the live cache's warm-up at start."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.storage.id_lists import id_table
from pstg.storage.queries.common import SeriesPoint, connect, point


def latest(engine: Engine | Connection, tag_ids: Sequence[int]) -> dict[int, SeriesPoint]:
    """The last stored sample of each tag (numbers and text alike); tags without any are
    left out. One statement, with the ids as one parameter however many there are (one
    parameter per tag failed past 65,535 tags on PostgreSQL)."""
    if not len(tag_ids):
        return {}
    out: dict[int, SeriesPoint] = {}
    newest: dict[int, int] = {}
    with connect(engine) as connection:
        ids, params = id_table(connection, [int(tag_id) for tag_id in tag_ids])

        def last_of(table: str, number: str, text: str) -> str:
            # Per tag: the newest ts by a backwards index probe, then that row by primary key.
            return (
                f"SELECT s.tag_id, s.ts, {number}, {text}, s.quality, s.reason FROM "
                f"(SELECT t.id, (SELECT max(m.ts) FROM {table} m WHERE m.tag_id = t.id) AS ts "
                f"FROM t) AS p JOIN {table} s ON s.tag_id = p.id AND s.ts = p.ts"
            )

        statement = sa.text(
            f"WITH t(id) AS ({ids}) "
            + last_of("samples", "s.value", "CAST(NULL AS TEXT)")
            + " UNION ALL "
            + last_of("text_samples", "CAST(NULL AS DOUBLE PRECISION)", "s.value")
        )
        for tag_id, ts, number, text, quality, reason in connection.execute(statement, params):
            if ts > newest.get(tag_id, ts - 1):
                newest[tag_id] = ts
                out[tag_id] = point(ts, number if text is None else text, quality, reason)
    return out
