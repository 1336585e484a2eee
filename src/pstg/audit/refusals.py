"""Refused requests in the audit log, rate-limited: a flood of refusals must not fill it.

Refusals are recorded (and logged at WARNING) one by one up to `PER_MINUTE` per kind and
source in a window of one minute that starts with the first of them. Past that they are
counted; when the window has closed, the next refusal recorded (of any kind, from anywhere)
first writes one summary row, action `audit.suppressed`, target the kind, saying how many
more were refused from that source in that window. Kinds are `login` (a refused password
login), `token` (a bearer token refused, 401), `role` (a role too low, 403) and `alarm` (an
alarm action refused, 404/409).

The counts live in the process (the service is one process per station): a restart forgets
windows whose summaries were not written yet. At most `MAX_KEYS` (kind, source) pairs are
counted at once; past that, new sources share one key per kind, "(other sources)".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.audit.log import Actor, AuditEntry, record
from pstg.model import utc_now
from pstg.times import format_instant

logger = logging.getLogger("pstg.audit")

PER_MINUTE = 20
"""Refusals recorded one by one per (kind, source) and window."""
WINDOW = timedelta(minutes=1)
MAX_KEYS = 10_000
SUMMARY_ACTION = "audit.suppressed"
OTHER_SOURCES = "(other sources)"


@dataclass
class _Window:
    start: datetime
    written: int = 0
    suppressed: int = 0


@dataclass(frozen=True)
class Summary:
    kind: str
    source: str
    count: int
    start: datetime
    end: datetime

    def entry(self) -> AuditEntry:
        return AuditEntry(
            Actor("pstg", None, "system", self.source),
            SUMMARY_ACTION,
            self.kind,
            new={"refused": self.count},
            result="denied",
            detail=(
                f"{self.count} more refused ({self.kind}) from {self.source} between "
                f"{format_instant(self.start)} and {format_instant(self.end)}, not recorded "
                "one by one"
            ),
        )


class RefusalAudit:
    """Records refusals in the audit log of `engine`, at most `per_minute` per kind and source
    (thread-safe; the API calls it from its worker threads)."""

    def __init__(
        self,
        engine: Engine,
        *,
        per_minute: int = PER_MINUTE,
        window: timedelta = WINDOW,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.engine = engine
        self.per_minute = per_minute
        self.window = window
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], _Window] = {}

    def record(
        self,
        kind: str,
        entry: AuditEntry,
        *,
        now: datetime | None = None,
        also: Callable[[Connection], None] | None = None,
    ) -> bool:
        """Audit (and log) the refusal `entry` unless its kind and source are over their limit
        in this window; `also` writes more rows in the same transaction (the events journal).
        Whether it was written. Never raises for the database: a refusal stays a refusal."""
        now = now or utc_now()
        with self._lock:
            summaries = self._closed(now)
            admit = self._count(kind, entry.actor.source, now)
        if admit:
            logger.warning(
                "refused (%s): %s %s by %r from %s: %s",
                kind, entry.action, entry.target, entry.actor.name, entry.actor.source,
                entry.detail,
            )  # fmt: skip
        for summary in summaries:
            logger.warning("%s", summary.entry().detail)
        if not admit and not summaries:
            return False
        try:
            with self.engine.begin() as connection:
                for summary in summaries:
                    record(connection, summary.entry(), now=now)
                if admit:
                    record(connection, entry, now=now)
                    if also is not None:
                        also(connection)
        except sa.exc.SQLAlchemyError as exc:
            logger.warning("could not audit a refusal (%s): %s", kind, exc)
            return False
        return admit

    def flush(self, now: datetime | None = None) -> int:
        """Write the summaries of every window with refusals not yet recorded (closed or not),
        e.g. at a clean stop; how many were written."""
        now = now or utc_now()
        with self._lock:
            summaries = [
                Summary(kind, source, w.suppressed, w.start, now)
                for (kind, source), w in self._windows.items()
                if w.suppressed
            ]
            self._windows.clear()
        if summaries:
            with self.engine.begin() as connection:
                for summary in summaries:
                    record(connection, summary.entry(), now=now)
        return len(summaries)

    def _count(self, kind: str, source: str, now: datetime) -> bool:
        # _closed ran just before under the same lock: every window left is open.
        key = (kind, source)
        window = self._windows.get(key)
        if window is None and len(self._windows) >= self.max_keys:
            key = (kind, OTHER_SOURCES)
            window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(now)
        if window.written < self.per_minute:
            window.written += 1
            return True
        window.suppressed += 1
        return False

    def _closed(self, now: datetime) -> list[Summary]:
        """Take the windows that have closed; summaries for those with suppressed refusals.

        Windows are kept in the order they opened (a closed one is removed before its key
        opens another), so the closed ones are at the front."""
        summaries = []
        while self._windows:
            key, window = next(iter(self._windows.items()))
            if now - window.start < self.window:
                break
            del self._windows[key]
            if window.suppressed:
                end = window.start + self.window
                summaries.append(Summary(*key, window.suppressed, window.start, end))
        return summaries
