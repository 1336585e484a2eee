"""Per-device poll statistics, kept by the device loop and read by the API and `pstg health`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pstg.drivers.errors import FailureKind
from pstg.histogram import Histogram


class LinkStatus(StrEnum):
    UNKNOWN = "unknown"  # not polled yet
    UP = "up"  # the device answered its last request (an exception response counts)
    DOWN = "down"  # the last attempt failed at the link level; reconnecting with backoff


@dataclass(slots=True)
class DeviceStats:
    device_id: str
    status: LinkStatus = LinkStatus.UNKNOWN
    cycles: int = 0
    requests: int = 0
    responses: int = 0
    errors: Counter[FailureKind] = field(default_factory=Counter)
    overruns: int = 0
    skipped_ticks: int = 0
    samples: int = 0
    last_rtt: float | None = None  # seconds, of the last successful request
    rtt: Histogram = field(default_factory=Histogram)
    """Round-trip times of the successful requests."""
    last_cycle_duration: float | None = None
    last_poll_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_kind: FailureKind | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    retry_in: float | None = None  # seconds until the next attempt while DOWN

    def snapshot(self) -> dict[str, Any]:
        """A JSON-friendly copy (times as RFC 3339 strings)."""

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "device_id": self.device_id,
            "status": self.status.value,
            "cycles": self.cycles,
            "requests": self.requests,
            "responses": self.responses,
            "errors": {kind.value: count for kind, count in sorted(self.errors.items())},
            "overruns": self.overruns,
            "skipped_ticks": self.skipped_ticks,
            "samples": self.samples,
            "last_rtt_ms": None if self.last_rtt is None else round(self.last_rtt * 1000, 3),
            "last_cycle_ms": (
                None
                if self.last_cycle_duration is None
                else round(self.last_cycle_duration * 1000, 3)
            ),
            "last_poll_at": iso(self.last_poll_at),
            "last_success_at": iso(self.last_success_at),
            "last_error": self.last_error,
            "last_error_kind": None if self.last_error_kind is None else self.last_error_kind.value,
            "last_error_at": iso(self.last_error_at),
            "consecutive_failures": self.consecutive_failures,
        }
