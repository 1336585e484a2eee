"""Failed logins, throttled per (user name, client address), in the process.

Counting per account let anyone lock anyone out; counting per name and address throttles a
guesser without touching the real user at their own address. The check and the count are one
step under a lock: `begin` reserves one of the `LOCKOUT_AFTER` attempts before the password
is looked at, so a parallel burst gets exactly that many checks, and an attempt that comes
while they run is refused, right password or not. Then `failed` or `succeeded` settles it
(`abandon` when the check could not be done).

After `LOCKOUT_AFTER` failures the pair is locked for 30 s, doubling with each further
failure (one attempt at a time once a window has passed) up to 15 minutes; attempts while
locked are not counted. A success clears the pair; so does an hour without a failure. The
state lives in this process (the service is one process per station) and a restart clears
it; at most `MAX_KEYS` pairs are kept, the least recently used going first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

LOCKOUT_AFTER = 5
LOCKOUT_FIRST = timedelta(seconds=30)
LOCKOUT_MAX = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)
"""A pair without a failure for this long starts again from zero."""
MAX_KEYS = 10_000
MAX_NAME = 128
"""Longer typed names are cut for the key (anyone can type anything)."""

Key = tuple[str, str]


def lockout_window(failed_logins: int) -> timedelta | None:
    """How long after the last failure a pair with this many consecutive failures is locked."""
    if failed_logins < LOCKOUT_AFTER:
        return None
    doublings = min(failed_logins - LOCKOUT_AFTER, 10)  # 30 s * 2**5 passes 15 min already
    return min(LOCKOUT_FIRST * (1 << doublings), LOCKOUT_MAX)


def throttle_key(username: str, source: str) -> Key:
    """Names are unique regardless of case, so `Admin` and `admin` count together."""
    return username[:MAX_NAME].casefold(), source


@dataclass
class _Pair:
    failures: int = 0
    in_flight: int = 0
    last_failed: datetime | None = None


@dataclass(frozen=True)
class Refused:
    """An attempt refused without looking at the password."""

    retry_after: int
    """Seconds until the next attempt may be checked (at least 1)."""
    failures: int


class LoginThrottle:
    def __init__(self, *, max_keys: int = MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._pairs: OrderedDict[Key, _Pair] = OrderedDict()

    def begin(self, key: Key, now: datetime) -> Refused | None:
        """Reserve an attempt for `key` (None), or refuse it (Refused); a reservation must be
        settled with `failed`, `succeeded` or `abandon`."""
        with self._lock:
            pair = self._pairs.get(key)
            if pair is not None and pair.in_flight == 0 and self._forgotten(pair, now):
                del self._pairs[key]
                pair = None
            if pair is None:
                self._make_room()
                pair = self._pairs[key] = _Pair()
            self._pairs.move_to_end(key)
            attempts = pair.failures + pair.in_flight
            if attempts < LOCKOUT_AFTER:
                pair.in_flight += 1
                return None
            window = lockout_window(max(pair.failures, LOCKOUT_AFTER))
            assert window is not None
            since = pair.last_failed or now
            remaining = since + window - now
            if pair.failures < LOCKOUT_AFTER or pair.in_flight or remaining > timedelta(0):
                # Still locked, or the last free attempts are being checked right now.
                seconds = max(1, int(max(remaining, timedelta(0)).total_seconds() + 0.999))
                return Refused(seconds, pair.failures)
            pair.in_flight += 1  # one attempt after a window, at a time
            return None

    def failed(self, key: Key, now: datetime) -> None:
        with self._lock:
            pair = self._pairs.get(key)
            if pair is None:  # evicted meanwhile: count it afresh
                self._make_room()
                pair = self._pairs[key] = _Pair(in_flight=1)
            pair.in_flight = max(0, pair.in_flight - 1)
            pair.failures += 1
            pair.last_failed = now

    def succeeded(self, key: Key) -> None:
        with self._lock:
            pair = self._pairs.get(key)
            if pair is None:
                return
            pair.in_flight = max(0, pair.in_flight - 1)
            pair.failures = 0
            pair.last_failed = None
            if pair.in_flight == 0:
                del self._pairs[key]

    def abandon(self, key: Key) -> None:
        """Give the reservation back uncounted (the check could not be made)."""
        with self._lock:
            pair = self._pairs.get(key)
            if pair is not None:
                pair.in_flight = max(0, pair.in_flight - 1)

    def failures(self, key: Key) -> int:
        with self._lock:
            pair = self._pairs.get(key)
            return 0 if pair is None else pair.failures

    def __len__(self) -> int:
        return len(self._pairs)

    def _forgotten(self, pair: _Pair, now: datetime) -> bool:
        return pair.last_failed is None or now - pair.last_failed >= FORGET_AFTER

    def _make_room(self) -> None:
        while len(self._pairs) >= self.max_keys:
            self._pairs.popitem(last=False)
