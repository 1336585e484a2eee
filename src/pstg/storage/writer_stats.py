"""The writer's counters and gauges, as the API, the metrics and `pstg run` read them."""

from __future__ import annotations

from dataclasses import dataclass, field

from pstg.histogram import Histogram


@dataclass
class WriterStats:
    received: int = 0
    """Rows submitted (numeric and text)."""
    suppressed: int = 0
    """Always 0: report by exception happens before the writer now (kept for the metrics)."""
    unknown_tag: int = 0
    """Rows whose tag index is not in the station's tag table (not stored)."""
    stored: int = 0
    """Rows inserted into the database (directly or from the spool)."""
    spooled: int = 0
    """Rows written to the spool (database down, or storage behind)."""
    overflowed: int = 0
    """Rows moved to the spool because `max_pending_rows` were waiting in memory."""
    replayed: int = 0
    dropped: int = 0
    """Rows lost: the spool was full, or memory was full while a spill was under way."""
    flushes: int = 0
    failures: int = 0
    database_up: bool = True
    last_error: str | None = None
    last_flush_seconds: float | None = None
    write_seconds: Histogram = field(default_factory=Histogram)
    """Duration of each successful database write (one flush, with its rollups)."""
    pending: int = 0
    """Rows waiting in memory."""
    behind_seconds: float = 0.0
    """Age of the oldest row not yet in the database (in memory, being written or spooled);
    rows a previous run left in the spool count from this start."""
    behind: bool = False
    """Falling behind: memory overflowed into the spool, or `behind_seconds` is past the
    threshold (10 s, or 10 flush intervals)."""
    events_stored: int = 0
    events_pending: int = 0
    spool_bytes: int = 0
    spool_fill: float = 0.0
    rollups_recomputed: int = 0
    """Rollup buckets recomputed from raw rows at start (a previous run crashed)."""
    errors_by_kind: dict[str, int] = field(default_factory=dict)
