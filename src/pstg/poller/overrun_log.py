"""Overrun warnings for a whole poller: one line a minute, however many devices overrun.

When the gateway itself is too slow, every device overruns at once; one warning per device
(a thousand lines a minute at 1000 devices) would bury the log it is meant to make readable.
"""

from __future__ import annotations

import logging
import math

log = logging.getLogger("pstg.poller.device_loop")

OVERRUN_LOG_EVERY = 60.0
"""Seconds between two overrun warnings of one poller."""
NAMES_SHOWN = 5


class OverrunLog:
    """Collects overruns of a poller's devices and warns at most once per `every` seconds:
    about one device by name and interval, about several as a count with the first names."""

    def __init__(self, every: float = OVERRUN_LOG_EVERY) -> None:
        self.every = every
        self._next = -math.inf
        self._since: dict[str, int] = {}
        """Overruns per device since the last warning."""

    def overran(self, device_id: str, interval: float, skipped_in_all: int, now: float) -> None:
        self._since[device_id] = self._since.get(device_id, 0) + 1
        if now < self._next:
            return
        self._next = now + self.every
        since, self._since = self._since, {}
        if len(since) == 1:
            log.warning(
                "%s: poll cycle overran its %gs interval (%d time(s) since the last report, "
                "%d tick(s) skipped in all): the device, its line or the gateway is too slow",
                device_id,
                interval,
                since[device_id],
                skipped_in_all,
            )
            return
        names = sorted(since)
        shown = ", ".join(names[:NAMES_SHOWN])
        more = len(names) - NAMES_SHOWN
        log.warning(
            "poll cycles overran on %d devices since the last report (%s%s; %d overrun(s)): "
            "the devices, their lines or the gateway are too slow",
            len(names),
            shown,
            f" and {more} more" if more > 0 else "",
            sum(since.values()),
        )
