"""systemd's notify protocol (sd_notify(3)), in the few lines it takes: a datagram to the
socket systemd names in NOTIFY_SOCKET.

With `Type=notify` the gateway says READY=1 once polling and the API run, STOPPING=1 when it
begins to stop; with `WatchdogSec=` it says WATCHDOG=1 every half of the interval systemd
gives in WATCHDOG_USEC, from the event loop, so a loop that hangs (or a gateway that dies)
is restarted by systemd. Outside systemd NOTIFY_SOCKET is unset and all of this does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket

log = logging.getLogger("pstg.systemd")


def notify(state: str) -> bool:
    """Send `state` (e.g. "READY=1") to systemd; False when not run by systemd or it failed."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        log.warning("sd_notify %s failed: %s", state, exc)
        return False
    return True


def watchdog_interval() -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WatchdogSec), or None without a watchdog."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return max(int(usec) / 2_000_000, 0.05)
    except ValueError:
        return None


class Watchdog:
    """Pings systemd's watchdog from the event loop while the gateway runs."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self.pings = 0

    async def start(self) -> None:
        notify("READY=1")
        interval = watchdog_interval()
        if interval is not None:
            self._task = asyncio.create_task(self._run(interval), name="systemd watchdog")

    async def _run(self, interval: float) -> None:
        while True:
            if notify("WATCHDOG=1"):
                self.pings += 1
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        notify("STOPPING=1")
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
