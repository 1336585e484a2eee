"""Lists of ids as one bound parameter, whatever their length.

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
