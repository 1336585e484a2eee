"""What the station is built as (`StationDesign`) and what the operator has set (`SetPoints`).

`StationDesign` is the fixed plant, frozen: the wet well's size and floats, the pumps' curve,
the supply, the generator, the inflow's scale. `SetPoints` are the levels and limits an
operator adjusts over Modbus; `validate` keeps them in an order the controller can work with,
and `setpoint_limits` gives the range each one can take (what `pstg seed` allows as min/max).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class StationDesign:
    """The fixed physical plant; the defaults are the reference station."""

    name: str = "Lift Station 1"
    wet_well_area: float = 12.0  # m²
    wet_well_depth: float = 5.0  # m, the level transmitter spans 0..depth
    overflow_level: float = 4.2  # m: above it the well spills to the emergency overflow
    high_high_float: float = 3.5  # m, float switch
    low_float: float = 0.5  # m, float switch: hard-wired dry-run cut-out for every pump
    pump_count: int = 3
    discharge_static_head: float = 20.0  # m, sump floor to the force main outlet
    shutoff_head: float = 32.0  # m, pump curve H = shutoff_head - pump_curve_k·q² (q per pump)
    pump_curve_k: float = 4914.0  # s²/m⁵
    system_friction: float = 2000.0  # s²/m⁵, friction head r·Q_total²
    pump_efficiency: float = 0.62  # wire-to-water
    supply_voltage: float = 400.0  # V, three-phase
    power_factor: float = 0.86
    base_inflow: float = 0.020  # m³/s, mean dry-weather inflow
    storm_peak_inflow: float = 0.130  # m³/s, more than three pumps move (about 0.074)
    start_delay: float = 2.0  # s from command to running
    fail_to_start_time: float = 10.0  # s commanded without running before fail_to_start latches
    generator_start_delay: float = 30.0  # s after mains loss
    generator_cooldown: float = 300.0  # s the generator runs on after mains returns
    generator_max_pumps: int = 2  # pumps the generator can carry
    power_outage_duration: float = 1800.0  # s of mains loss in the power-failure scenario
    ambient_temperature: float = 12.0  # °C

    def __post_init__(self) -> None:
        if not 1 <= self.pump_count <= 4:
            raise ValueError(f"pump_count ({self.pump_count}) must be between 1 and 4")
        if not (
            0.0 < self.low_float < self.high_high_float < self.overflow_level <= self.wet_well_depth
        ):
            raise ValueError(
                "the wet well needs 0 < low_float < high_high_float < overflow_level"
                " <= wet_well_depth"
            )
        for name in ("wet_well_area", "shutoff_head", "pump_efficiency", "supply_voltage"):
            if not getattr(self, name) > 0.0:
                raise ValueError(f"{name} must be positive")
        if not 0.0 < self.power_factor <= 1.0:
            raise ValueError("power_factor must be in (0, 1]")
        if self.generator_max_pumps < 0:
            raise ValueError("generator_max_pumps must not be negative")


_RELATIONS: dict[str, Callable[[float, float], bool]] = {
    "be above": operator.gt,
    "be below": operator.lt,
    "not be above": operator.le,
    "not be below": operator.ge,
}


def _require(name: str, value: float, relation: str, other_name: str, other: float) -> None:
    """Raise e.g. "lead_start (0.70 m) must be above stop (0.80 m)" unless the relation holds."""
    if not _RELATIONS[relation](value, other):  # `not` so that NaN fails every check
        raise ValueError(f"{name} ({value:.2f} m) must {relation} {other_name} ({other:.2f} m)")


MAX_STARTS_RANGE = (1, 60)
HIGH_PRESSURE_RANGE = (0.5, 10.0)
"""bar: the header pressure gauge's span, capped by the force main's rating (PN 10)."""


@dataclass
class SetPoints:
    """Operator-adjustable levels (m) and limits, writable over Modbus."""

    lead_start: float = 1.8
    lag_start: float = 2.2
    standby_start: float = 2.6
    stop: float = 0.8
    high_level: float = 3.0  # analog high level alarm
    low_level: float = 0.6  # analog low level alarm
    max_starts_per_hour: int = 6
    high_pressure: float = 3.5  # bar, discharge header high pressure alarm (a blocked main)

    def validate(self, design: StationDesign) -> None:
        """Raise ValueError naming the first set point that is out of order."""
        _require("stop", self.stop, "be above", "the low float", design.low_float)
        _require("lead_start", self.lead_start, "be above", "stop", self.stop)
        _require("lag_start", self.lag_start, "not be below", "lead_start", self.lead_start)
        _require("standby_start", self.standby_start, "not be below", "lag_start", self.lag_start)
        _require("high_level", self.high_level, "be above", "standby_start", self.standby_start)
        _require(
            "high_level", self.high_level, "not be above", "the well depth", design.wet_well_depth
        )
        _require("low_level", self.low_level, "not be below", "the well floor", 0.0)
        _require("low_level", self.low_level, "be below", "stop", self.stop)
        starts, (fewest, most) = self.max_starts_per_hour, MAX_STARTS_RANGE
        if isinstance(starts, bool) or not isinstance(starts, int) or not fewest <= starts <= most:
            raise ValueError(
                f"max_starts_per_hour ({starts}) must be a whole number from {fewest} to {most}"
            )
        low, high = HIGH_PRESSURE_RANGE
        if not low <= self.high_pressure <= high:  # `not` so that NaN fails too
            raise ValueError(
                f"high_pressure ({self.high_pressure:.2f} bar) must be from {low:g} to {high:g} bar"
            )


LEVEL_ORDER = ("low_level", "stop", "lead_start", "lag_start", "standby_start", "high_level")
"""The level set points from low to high: `validate` keeps each above the one before it (lag
and standby start may equal the start before them: two pumps starting together)."""


def setpoint_limits(design: StationDesign, step: float) -> dict[str, tuple[float, float]]:
    """The closed range `SetPoints.validate` can accept for each set point, at `step` resolution.

    The level set points are bounded by each other (low_level < stop < lead_start <= lag_start
    <= standby_start < high_level <= well depth, stop above the low float), so each range is
    what that chain leaves, one `step` apart where the rule is strict. Both ends are reachable:
    every level set point at its low end at once is valid, and so is every one at its high
    end; one step beyond an end is refused whatever the other set points are.
    """
    floor, top = design.low_float, design.wet_well_depth

    def level(low_steps: int, high_steps: int) -> tuple[float, float]:
        return round(floor + low_steps * step, 6), round(top - high_steps * step, 6)

    return {
        "low_level": (0.0, round(top - 3 * step, 6)),
        "stop": level(1, 2),
        "lead_start": level(2, 1),
        "lag_start": level(2, 1),
        "standby_start": level(2, 1),
        "high_level": level(3, 0),
        "max_starts_per_hour": MAX_STARTS_RANGE,
        "high_pressure": HIGH_PRESSURE_RANGE,
    }
