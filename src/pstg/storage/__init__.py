"""Time-series storage on SQLite and PostgreSQL: schema and migrations, the catalog, the writer
and its spool, rollups, queries, retention, export and import (docs/storage.md)."""
