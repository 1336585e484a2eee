"""Raw samples of one tag, a page at a time (keyset paging on the timestamp)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.storage.queries.common import SeriesPoint, connect, is_text, micros, point

MAX_SERIES_LIMIT = 10_000


class SeriesPage(NamedTuple):
    points: list[SeriesPoint]
    next_after: datetime | None
    """Pass as `after` to get the next page; None when this page is the last."""


def series(
    engine: Engine | Connection,
    tag_id: int,
    start: datetime,
    end: datetime,
    *,
    limit: int = 1000,
    after: datetime | None = None,
) -> SeriesPage:
    """Raw samples of one tag with start <= ts < end (and ts > `after`), oldest first."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    limit = min(limit, MAX_SERIES_LIMIT)
    low, high = micros(start, "start"), micros(end, "end")
    params: dict[str, Any] = {"tag": tag_id, "low": low, "high": high, "n": limit + 1}
    keyset = ""
    if after is not None:
        params["after"] = micros(after, "after")
        keyset = " AND ts > :after"
    where = f"tag_id = :tag AND ts >= :low AND ts < :high{keyset}"
    select = f"SELECT ts, value, quality, reason FROM samples WHERE {where}"
    with connect(engine) as connection:
        if is_text(connection, tag_id):
            # The writer stores a text tag's bad samples (no text) with the numbers.
            select = (
                f"SELECT ts, value, quality, reason FROM text_samples WHERE {where} UNION ALL "
                f"SELECT ts, CAST(NULL AS TEXT), quality, reason FROM samples WHERE {where}"
            )
        rows = connection.execute(sa.text(f"{select} ORDER BY ts LIMIT :n"), params).all()
    points = [point(ts, value, quality, reason) for ts, value, quality, reason in rows[:limit]]
    return SeriesPage(points, points[-1].ts if len(rows) > limit else None)
