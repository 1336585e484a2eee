"""Capped exponential backoff with jitter for reconnecting to a device.

Jitter spreads the reconnects of many devices that failed together (a gateway reboot) so they
do not all hammer the line at the same instant when it returns.
"""

from __future__ import annotations

import random


class Backoff:
    """Delays initial, 2·initial, 4·initial ... capped at `maximum`, each scaled by a random
    factor in [1 - jitter, 1]."""

    def __init__(
        self,
        initial: float,
        maximum: float,
        *,
        jitter: float = 0.2,
        rng: random.Random | None = None,
    ) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("backoff needs 0 < initial <= maximum")
        if not 0 <= jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
        self.attempts = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        base = min(self.maximum, self.initial * 2.0 ** min(self.attempts, 62))
        self.attempts += 1
        return base * (1.0 - self.jitter * self._rng.random())

    def reset(self) -> None:
        self.attempts = 0
