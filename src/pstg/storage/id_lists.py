"""Lists of ids (or of (id, time) pairs) as one bound parameter, whatever their length.

A statement with one parameter per tag fails past 65,535 tags on PostgreSQL and costs a
parse per distinct length on both databases. These helpers give a derived table to join
with instead: SQLite reads a JSON array (`json_each`), PostgreSQL unnests a BIGINT array.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy.engine import Connection


def id_table(
    connection: Connection, ids: Sequence[int], name: str = "ids"
) -> tuple[str, dict[str, object]]:
    """A subquery with one column `id` holding `ids`, and its parameters (for sa.text)."""
    values = [int(i) for i in ids]
    if connection.dialect.name == "sqlite":
        return f"SELECT CAST(value AS INTEGER) AS id FROM json_each(:{name})", {
            name: json.dumps(values)
        }
    return f"SELECT unnest(CAST(:{name} AS BIGINT[])) AS id", {name: values}


def id_time_table(
    connection: Connection, ids: Sequence[int], times: Sequence[int], name: str = "pairs"
) -> tuple[str, dict[str, object]]:
    """A subquery with columns `id` and `at` holding the pairs (ids[i], times[i])."""
    if connection.dialect.name == "sqlite":
        pairs = [[int(i), int(t)] for i, t in zip(ids, times, strict=True)]
        return (
            "SELECT CAST(json_extract(value, '$[0]') AS INTEGER) AS id, "
            f"CAST(json_extract(value, '$[1]') AS INTEGER) AS at FROM json_each(:{name})",
            {name: json.dumps(pairs)},
        )
    return (
        f"SELECT * FROM unnest(CAST(:{name}_ids AS BIGINT[]), CAST(:{name}_at AS BIGINT[])) "
        "AS p(id, at)",
        {f"{name}_ids": [int(i) for i in ids], f"{name}_at": [int(t) for t in times]},
    )
