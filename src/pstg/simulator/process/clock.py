"""The stepping clock: simulated time as elapsed seconds from a fixed, aware start.

The model advances in steps of at most a second (`tick`), and `steps` cuts a longer advance
into such steps. Elapsed time is a sum of floats, so timers compare with `TIME_EPS` of slack:
a generator with a 30 s start delay is running after `advance(30)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)  # fixed, so that runs are reproducible

TIME_EPS = 1e-9  # s: lets timers fire on time although elapsed time is a sum of floats


class Clock:
    """Simulated time: `start` (aware UTC) plus `elapsed` seconds."""

    __slots__ = ("elapsed", "start")

    def __init__(self, start: datetime | None = None) -> None:
        self.start = as_utc(start) if start is not None else DEFAULT_START
        self.elapsed = 0.0

    @property
    def time(self) -> datetime:
        """Simulated time, aware UTC."""
        return self.start + timedelta(seconds=self.elapsed)

    def tick(self, dt: float) -> float:
        """Move on by `dt` seconds (0 < dt <= 1); the new elapsed time."""
        if not 0.0 < dt <= 1.0:
            raise ValueError(f"dt must be more than 0 and at most 1 s, not {dt!r}")
        self.elapsed += dt
        return self.elapsed

    @staticmethod
    def steps(seconds: float, max_step: float = 1.0) -> Iterator[float]:
        """The steps that make up `seconds`: `max_step` each, the last one shorter if need be."""
        if seconds < 0.0:
            raise ValueError(f"cannot advance by a negative time ({seconds!r} s)")
        if not 0.0 < max_step <= 1.0:
            raise ValueError(f"max_step must be more than 0 and at most 1 s, not {max_step!r}")
        whole_steps = int(seconds // max_step)
        for _ in range(whole_steps):
            yield max_step
        rest = seconds - whole_steps * max_step
        if rest > TIME_EPS:
            yield rest


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; ValueError if it has no time zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"start must be timezone-aware, not {moment.isoformat()}")
    return moment.astimezone(UTC)
