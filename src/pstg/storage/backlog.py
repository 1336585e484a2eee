"""How far the writer is behind, and saying so when it falls behind.

Rows wait in three places: in memory, in the flush under way, in the spool. The age of the
oldest is how far behind storage is (`behind_seconds`); rows a previous run left in the spool
count from this start. Falling behind (memory overflowing into the spool, or more than
`behind_after` seconds) starts an episode: one `storage_behind` event, a WARNING at most every
`warn_interval` seconds while it lasts, and an INFO line once it has caught up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pstg.model import Event, EventKind, utc_now
from pstg.storage.writer_stats import WriterStats

log = logging.getLogger("pstg.storage")


class Backlog:
    def __init__(
        self,
        *,
        spooled: bool,
        behind_after: float,
        warn_interval: float,
        announce: Callable[[Event], None],
    ) -> None:
        self.pending_since: float | None = None
        """Monotonic time since which rows wait in memory (None: none wait)."""
        self.flushing_since: float | None = None
        self.spool_since: float | None = time.monotonic() if spooled else None
        self.behind_after = behind_after
        self.warn_interval = warn_interval
        self._announce = announce
        self._episode = False
        self._last_warning = -float("inf")

    def seconds(self, now: float) -> float:
        """Age of the oldest row not yet in the database."""
        waiting = [
            since
            for since in (self.pending_since, self.flushing_since, self.spool_since)
            if since is not None
        ]
        return now - min(waiting) if waiting else 0.0

    def fell_behind(self, stats: WriterStats, what: str, spool_rows: int) -> None:
        """Storage cannot keep up: an event per episode, a warning now and then."""
        stats.behind = True
        if not self._episode:
            self._episode = True
            self._announce(
                Event(utc_now(), EventKind.STORAGE_BEHIND, "storage",
                      f"storage is {stats.behind_seconds:.0f} s behind; {what}")
            )  # fmt: skip
        now = time.monotonic()
        if now - self._last_warning >= self.warn_interval:
            self._last_warning = now
            log.warning(
                "storage is %.1f s behind: %s (%d rows overflowed to the spool, %d dropped, "
                "%d waiting in the spool)",
                stats.behind_seconds,
                what,
                stats.overflowed,
                stats.dropped,
                spool_rows,
            )

    def check(self, stats: WriterStats, spool_rows: int, *, caught_up: bool) -> None:
        """After a flush: still or newly behind, or caught up (`caught_up`: nothing is left
        in the spool or on its way there)."""
        if stats.behind_seconds >= self.behind_after:
            self.fell_behind(
                stats, f"{stats.pending} rows waiting in memory, {spool_rows} in the spool",
                spool_rows,
            )  # fmt: skip
        elif self._episode and caught_up:
            self._episode = False
            stats.behind = False
            log.info("storage caught up")
