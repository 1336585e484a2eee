"""What the outside world does to the station: sewage inflow and maintenance visits.

Each model draws from its own `random.Random`, so a change to one (say, a new kind of visit)
leaves the other's sequence, and therefore the inflow trajectory for a seed, untouched.
"""

from __future__ import annotations

import math
import random
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pstg.simulator.process.design import StationDesign

DAY = 86_400.0
HOUR = 3_600.0
_MINUTE = 60.0

# Dry-weather flow relative to the daily mean, every two hours from midnight: night minimum
# around 04:00, the morning peak as a town wakes up around 08:00, a smaller evening peak.
_DIURNAL_ANCHORS = (0.70, 0.45, 0.35, 0.80, 1.70, 1.35, 1.15, 1.05, 1.05, 1.15, 1.30, 1.00)
_ANCHOR_SPACING = DAY / len(_DIURNAL_ANCHORS)

_NOISE_SD = 0.08  # relative, stationary standard deviation of the multiplicative noise
_NOISE_CORRELATION_TIME = 300.0  # s: gusts of flow from a pumped upstream catchment last minutes

_STORM_RAMP = 20 * _MINUTE
_STORM_HOLD = 90 * _MINUTE
_STORM_RECESSION = 45 * _MINUTE  # time constant of the exponential tail
_STORM_OVER = 1e-4  # fraction of the peak below which the storm is forgotten

_VISIT_PROBABILITY = 0.5
_VISIT_EARLIEST = 8 * HOUR
_VISIT_LATEST = 16 * HOUR
_VISIT_SHORTEST = 20 * _MINUTE
_VISIT_LONGEST = 45 * _MINUTE


def seconds_into_day(moment: datetime) -> float:
    """Seconds since the midnight before `moment`, in `moment`'s own time zone."""
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return (moment - midnight).total_seconds()


def diurnal_shape(seconds: float) -> float:
    """The un-normalised dry-weather multiplier at `seconds` after midnight.

    Cosine interpolation between the anchors keeps the curve smooth and puts each extreme
    exactly on its anchor.
    """
    position = (seconds % DAY) / _ANCHOR_SPACING
    index = int(position)
    fraction = position - index
    here = _DIURNAL_ANCHORS[index % len(_DIURNAL_ANCHORS)]
    after = _DIURNAL_ANCHORS[(index + 1) % len(_DIURNAL_ANCHORS)]
    return here + (after - here) * (1.0 - math.cos(math.pi * fraction)) / 2.0


def _diurnal_table() -> list[float]:
    """The multiplier for every minute of the day (plus midnight again), scaled to mean 1.0."""
    minutes = int(DAY / _MINUTE)
    shape = [diurnal_shape(minute * _MINUTE) for minute in range(minutes)]
    mean = math.fsum(shape) / minutes
    return [value / mean for value in [*shape, shape[0]]]


def storm_shape(seconds_since_start: float) -> float:
    """The storm hydrograph as a fraction of its peak: ramp, hold, exponential recession."""
    if seconds_since_start <= 0.0:
        return 0.0
    if seconds_since_start < _STORM_RAMP:
        return seconds_since_start / _STORM_RAMP
    if seconds_since_start < _STORM_RAMP + _STORM_HOLD:
        return 1.0
    return math.exp(-(seconds_since_start - _STORM_RAMP - _STORM_HOLD) / _STORM_RECESSION)


class InflowModel:
    """Sewage arriving at the wet well: dry-weather diurnal flow with AR(1) noise, plus storms.

    The noise is multiplicative so a quiet night stays quiet, and a first-order
    autoregression so flow wanders over minutes rather than flickering every step.
    """

    def __init__(self, design: StationDesign, rng: random.Random, start: datetime) -> None:
        self._base_inflow = design.base_inflow
        self._storm_peak_inflow = design.storm_peak_inflow
        self._rng = rng
        self._start_seconds_into_day = seconds_into_day(start)
        self._diurnal = _diurnal_table()
        self._noise = 0.0
        self._noise_dt = 0.0
        self._persistence = 1.0
        self._innovation_sd = 0.0
        self._storm_started_at: float | None = None

    @property
    def storm_active(self) -> bool:
        return self._storm_started_at is not None

    def start_storm(self, elapsed: float) -> None:
        """Begin a storm hydrograph at `elapsed` (restarting one already under way)."""
        self._storm_started_at = elapsed

    def end_storm(self) -> None:
        self._storm_started_at = None

    def diurnal_multiplier(self, elapsed: float) -> float:
        """Dry-weather flow relative to the daily mean, `elapsed` seconds after the start."""
        minute = ((self._start_seconds_into_day + elapsed) % DAY) / _MINUTE
        index = int(minute)
        fraction = minute - index
        table = self._diurnal
        return table[index] + (table[index + 1] - table[index]) * fraction

    def inflow_at(self, elapsed: float, dt: float) -> float:
        """m³/s arriving at `elapsed`, after moving the noise on by `dt` seconds.

        `dt` 0 reads the current inflow without drawing a random number.
        """
        if dt > 0.0:
            self._advance_noise(dt)
        dry_mean = self._base_inflow * self.diurnal_multiplier(elapsed)
        dry = dry_mean * max(0.0, 1.0 + self._noise)
        return dry + self._storm_inflow(elapsed, dry_mean)

    def _advance_noise(self, dt: float) -> None:
        if dt != self._noise_dt:  # steps are nearly always the same size: cache the exp
            self._noise_dt = dt
            self._persistence = math.exp(-dt / _NOISE_CORRELATION_TIME)
            self._innovation_sd = _NOISE_SD * math.sqrt(1.0 - self._persistence**2)
        self._noise = self._persistence * self._noise + self._rng.gauss(0.0, self._innovation_sd)

    def _storm_inflow(self, elapsed: float, dry_mean: float) -> float:
        """Storm water on top of the dry weather, so the total peaks at `storm_peak_inflow`."""
        if self._storm_started_at is None:
            return 0.0
        shape = storm_shape(elapsed - self._storm_started_at)
        if elapsed - self._storm_started_at > _STORM_RAMP and shape < _STORM_OVER:
            self._storm_started_at = None
            return 0.0
        return shape * max(0.0, self._storm_peak_inflow - dry_mean)


class MaintenanceVisits:
    """The station door: on each day, with probability 0.5, one maintenance visit that opens
    it at a random time between 08:00 and 16:00 for 20 to 45 minutes.

    Days are planned one at a time as simulated time reaches them, so the random sequence
    does not depend on how far ahead anyone looks.
    """

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self._rng = rng
        self._next_day_at = -seconds_into_day(start)  # elapsed seconds of the first midnight
        self._opens_at = -math.inf
        self._closes_at = -math.inf

    def door_open_at(self, elapsed: float) -> bool:
        """Whether a visit holds the door open at `elapsed` (which must not go backwards)."""
        while elapsed >= self._next_day_at:
            self._plan_day(self._next_day_at)
            self._next_day_at += DAY
        return self._opens_at <= elapsed < self._closes_at

    def _plan_day(self, midnight: float) -> None:
        if self._rng.random() >= _VISIT_PROBABILITY:
            return
        self._opens_at = midnight + self._rng.uniform(_VISIT_EARLIEST, _VISIT_LATEST)
        self._closes_at = self._opens_at + self._rng.uniform(_VISIT_SHORTEST, _VISIT_LONGEST)
