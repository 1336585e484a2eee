"""The wet well and what measures it: the level from the water balance, and its transmitter.

Every m³ of a step ends up in the well, the force main or the emergency overflow, so the
volumes moved add up exactly (`inflow_volume = stored + pumped_volume + overflow_volume`). The
level transmitter reads the level with a little noise from its own random stream; it can be
stuck (its reading stops following the level, with no error to show) or failed (its signal is
lost: the PLC reports no value, NaN).
"""

from __future__ import annotations

import math
import random

from pstg.simulator.process.design import StationDesign

_LEVEL_NOISE_SD = 0.002  # m, a good radar or pressure transmitter


class WetWell:
    """The well's level and the volumes that went in and out of it."""

    def __init__(self, design: StationDesign, level: float) -> None:
        self._design = design
        self.level = level
        self.inflow_volume = 0.0
        self.pumped_volume = 0.0
        self.overflow_volume = 0.0

    def balance(self, inflow: float, outflow: float, dt: float) -> None:
        """Move the step's water; every m³ ends up in the well, the force main or the overflow."""
        design = self._design
        area = design.wet_well_area
        arrived = inflow * dt
        pumped = outflow * dt
        volume = self.level * area + arrived - pumped
        if volume < 0.0:
            pumped += volume  # the pumps cannot move water the well does not hold
            volume = 0.0
        spill_volume = design.overflow_level * area
        spilled = 0.0
        if volume > spill_volume:
            spilled = volume - spill_volume
            self.level = design.overflow_level
        else:
            self.level = volume / area
        self.inflow_volume += arrived
        self.pumped_volume += pumped
        self.overflow_volume += spilled


class LevelTransmitter:
    """The wet well's level transmitter: the level plus noise, within its 0..depth span."""

    def __init__(self, design: StationDesign, rng: random.Random) -> None:
        self._span = design.wet_well_depth
        self._rng = rng
        self.reading = 0.0
        self.stuck = False
        """Injected fault: the reading stays where it is."""
        self.failed = False
        """Injected fault: the signal is lost; the reading is NaN."""

    def measure(self, level: float) -> float:
        """A new reading of `level`; also kept in `reading`."""
        # The noise is drawn whatever the faults, so a fault never shifts the random stream.
        reading = level + self._rng.gauss(0.0, _LEVEL_NOISE_SD)
        if self.failed:
            self.reading = math.nan
        elif not self.stuck or math.isnan(self.reading):
            self.reading = min(self._span, max(0.0, reading))
        return self.reading
