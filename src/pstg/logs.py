"""Logging that can never stall the gateway.

Every record goes through a bounded queue to one listener thread that formats and writes it
(stdlib `QueueHandler` / `QueueListener`). The event loop only puts a record on the queue; if
the output is slow (a pipe read slowly, a full disk) the queue fills, further records are
dropped and counted, and the listener says how many were lost once it catches up — the poll
loops and the API never wait for a log line.

Formats: `text` (time, level, logger, message) or `json` (one object per line, for log
shippers).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import queue
import sys
import threading
from datetime import UTC, datetime
from typing import IO, Literal

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")
QUEUE_RECORDS = 10_000
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts (UTC, RFC 3339), level, logger, message[, exception]."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _BoundedQueueHandler(logging.handlers.QueueHandler):
    """Puts records on a bounded queue without ever waiting; counts what did not fit."""

    def __init__(self, records: queue.Queue[logging.LogRecord]) -> None:
        super().__init__(records)
        self.dropped = 0
        self._lock = threading.Lock()

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            with self._lock:
                self.dropped += 1

    def take_dropped(self) -> int:
        with self._lock:
            dropped, self.dropped = self.dropped, 0
        return dropped


class _ReportingHandler(logging.StreamHandler[IO[str]]):
    """The listener's handler: writes records, and first says how many were dropped."""

    def __init__(self, stream: IO[str], source: _BoundedQueueHandler) -> None:
        super().__init__(stream)
        self._source = source

    def handle(self, record: logging.LogRecord) -> bool:
        dropped = self._source.take_dropped()
        if dropped:
            lost = logging.LogRecord(
                "pstg.logs", logging.WARNING, __file__, 0,
                "%d log record(s) dropped: the log output could not keep up", (dropped,), None,
            )  # fmt: skip
            super().handle(lost)
        return super().handle(record)


class LogQueue:
    """The installed queue and listener; `stop()` writes out what is queued."""

    def __init__(self, handler: _BoundedQueueHandler, listener: logging.handlers.QueueListener):
        self.handler = handler
        self.listener = listener

    @property
    def dropped(self) -> int:
        return self.handler.dropped

    def stop(self) -> None:
        self.listener.stop()
        logging.getLogger().removeHandler(self.handler)


def configure(
    level: str = "info",
    log_format: LogFormat = "text",
    *,
    stream: IO[str] | None = None,
    capacity: int = QUEUE_RECORDS,
) -> LogQueue:
    """Route all logging through a bounded queue to `stream` (default stderr)."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    records: queue.Queue[logging.LogRecord] = queue.Queue(capacity)
    handler = _BoundedQueueHandler(records)
    output = _ReportingHandler(stream if stream is not None else sys.stderr, handler)
    output.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    listener = logging.handlers.QueueListener(records, output, respect_handler_level=False)
    root.addHandler(handler)
    root.setLevel(level.upper())
    listener.start()
    return LogQueue(handler, listener)
