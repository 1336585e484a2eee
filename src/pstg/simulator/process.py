"""The process model of a wastewater lift station: wet well, pumps, level control and power.

The simulator's register map reads the public attributes of `PumpStation` and writes operator
commands through its methods; nothing here knows about Modbus.

`PumpStation.step(dt)` advances simulated time by `dt` seconds in this order: scenario events,
inflow, power and generator, the level controller, the pumps' start/stop machine,
hydraulics, mass balance, totals and the level measurement. Events are due when the clock
reaches them, so after `advance(30)` a generator with a 30 s start delay is running. Every
random number comes from `random.Random` instances seeded from `seed`, so the trajectory is a
pure function of the seed, the start time and the sequence of calls.
"""

from __future__ import annotations

import operator
import random
from collections import deque
from collections.abc import Callable
from copy import copy
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum

from pstg.simulator import hydraulics
from pstg.simulator.inflow import HOUR, InflowModel, MaintenanceVisits

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)  # fixed, so that runs are reproducible

_MOTOR_RISE = 35.0  # °C a loaded motor settles above ambient
_MOTOR_TIME_CONSTANT = 20 * 60.0  # s
_LEVEL_NOISE_SD = 0.002  # m, a good radar or pressure transmitter
_LOW_FLOAT_DIFFERENTIAL = 0.10  # m the level must recover before the dry-run cut-out re-arms
_TIME_EPS = 1e-9  # s: lets timers fire on time although elapsed time is a sum of floats


class Hoa(IntEnum):
    """The Hand-Off-Auto selector on a pump's starter."""

    OFF = 0
    HAND = 1
    AUTO = 2


class ProcessScenario(StrEnum):
    NORMAL = "normal"
    STORM = "storm"
    PUMP_FAULT = "pump-fault"
    POWER_FAILURE = "power-failure"


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
        starts = self.max_starts_per_hour
        if isinstance(starts, bool) or not isinstance(starts, int) or not 1 <= starts <= 60:
            raise ValueError(f"max_starts_per_hour ({starts}) must be a whole number from 1 to 60")


@dataclass
class Pump:
    """One pump set: selector, commands, protection and what it is doing now."""

    number: int  # 1-based
    hoa: Hoa = Hoa.AUTO
    remote_mode: bool = False  # with AUTO, the pump follows remote_run instead of level control
    remote_run: bool = False
    commanded: bool = False  # the controller (or Hand, or remote) asks it to run
    running: bool = False
    tripped: bool = False  # motor overload trip, latched until reset
    fail_to_start: bool = False  # latched until reset
    seized: bool = False  # injected fault: a command never makes it run
    flow: float = 0.0  # m³/s
    head: float = 0.0  # m
    power: float = 0.0  # kW electrical
    current: float = 0.0  # A
    motor_temperature: float = StationDesign.ambient_temperature  # °C
    run_seconds: float = 0.0
    starts: int = 0  # transitions to running
    start_times: deque[float] = field(default_factory=deque)  # elapsed s, starts in the last hour
    _commanded_since: float = field(default=0.0, init=False, repr=False)
    _max_starts_per_hour: int = field(default=SetPoints.max_starts_per_hour, init=False, repr=False)

    @property
    def available(self) -> bool:
        """Free for level control: Auto, not remote, healthy and allowed another start.

        A pump already running stays available whatever the starts limit says.
        """
        return (
            self.hoa == Hoa.AUTO
            and not self.remote_mode
            and not self.tripped
            and not self.fail_to_start
            and (self.running or len(self.start_times) < self._max_starts_per_hour)
        )

    @property
    def run_hours(self) -> float:
        return self.run_seconds / HOUR

    @property
    def status_word(self) -> int:
        bits = (
            self.running,
            self.hoa == Hoa.AUTO,
            self.hoa == Hoa.HAND,
            self.hoa == Hoa.OFF,
            self.tripped,
            self.fail_to_start,
            self.remote_mode,
            self.available,
            self.commanded,
        )
        return sum(1 << bit for bit, on in enumerate(bits) if on)

    @property
    def may_run_manually(self) -> bool:
        """Asked to run by the Hand position or a remote command, and healthy."""
        if self.tripped or self.fail_to_start:
            return False
        if self.hoa == Hoa.HAND:
            return True
        return self.hoa == Hoa.AUTO and self.remote_mode and self.remote_run

    def _command(self, now: float) -> None:
        if not self.commanded:
            self.commanded = True
            self._commanded_since = now

    def _stop(self) -> None:
        self.commanded = False
        self.running = False

    def _trip(self) -> None:
        self.tripped = True
        self._stop()


class PumpStation:
    """A lift station advanced in steps of simulated time; see the module docstring."""

    def __init__(
        self,
        design: StationDesign = StationDesign(),
        setpoints: SetPoints | None = None,
        *,
        seed: int = 1,
        start: datetime | None = None,
        initial_level: float = 1.2,
    ) -> None:
        setpoints = setpoints if setpoints is not None else SetPoints()
        setpoints.validate(design)
        if not 0.0 <= initial_level <= design.overflow_level:
            raise ValueError(
                f"initial_level ({initial_level:.2f} m) must be within 0 and the overflow level"
                f" ({design.overflow_level:.2f} m)"
            )
        self.design = design
        self.setpoints = setpoints
        self.seed = seed
        self.start = _as_utc(start) if start is not None else DEFAULT_START
        self.initial_level = initial_level
        self.elapsed = 0.0
        self.level = initial_level
        self.pumps = [
            Pump(number, motor_temperature=design.ambient_temperature)
            for number in range(1, design.pump_count + 1)
        ]
        self.rotation = [pump.number for pump in self.pumps]
        self.demand = 0
        self._lead_ran_this_cycle = False
        self._dry_run_cutout = False
        self._apply_starts_limit()

        self.mains_ok = True
        self.generator_running = False
        self._mains_lost_at = 0.0
        self._mains_back_at = 0.0
        self._outage_ends_at: float | None = None
        self.scenario = ProcessScenario.NORMAL
        self._trip_at_next_start: int | None = None
        self._seized_by_scenario: int | None = None
        self.remote_commands_rejected = 0

        self.inflow_volume = 0.0
        self.pumped_volume = 0.0
        self.overflow_volume = 0.0
        self.energy_kwh = 0.0

        # Separate streams, so that e.g. adding door visits never changes the inflow.
        self._inflow_model = InflowModel(design, random.Random(f"{seed}:inflow"), self.start)
        self._visits = MaintenanceVisits(random.Random(f"{seed}:door"), self.start)
        self._transmitter_rng = random.Random(f"{seed}:level-transmitter")
        self.inflow = self._inflow_model.inflow_at(0.0, 0.0)
        self.door_open = self._visits.door_open_at(0.0)
        self.outflow = 0.0
        self.discharge_pressure = 0.0
        self._solve_hydraulics()
        self.level_measured = self.level
        self._measure_level()

    # --- what the station shows ---------------------------------------------------------

    @property
    def time(self) -> datetime:
        """Simulated time, aware UTC."""
        return self.start + timedelta(seconds=self.elapsed)

    @property
    def lead_pump(self) -> int:
        return self.rotation[0]

    @property
    def on_generator(self) -> bool:
        return not self.mains_ok and self.generator_running

    @property
    def power_available(self) -> bool:
        return self.mains_ok or self.generator_running

    @property
    def high_high_float(self) -> bool:
        return self.level >= self.design.high_high_float

    @property
    def low_float(self) -> bool:
        """True when the low float has dropped: the dry-run cut-out is active."""
        return self.level <= self.design.low_float

    @property
    def overflowing(self) -> bool:
        """Spilling to the emergency overflow right now."""
        return self.level >= self.design.overflow_level and self.inflow > self.outflow

    @property
    def high_level_alarm(self) -> bool:
        return self.level >= self.setpoints.high_level

    @property
    def low_level_alarm(self) -> bool:
        return self.level <= self.setpoints.low_level

    @property
    def pump_fault_alarm(self) -> bool:
        return any(pump.tripped or pump.fail_to_start for pump in self.pumps)

    @property
    def common_alarm(self) -> bool:
        return (
            self.high_high_float
            or self.high_level_alarm
            or self.low_float
            or self.pump_fault_alarm
            or not self.mains_ok
            or self.door_open
            or self.overflowing
        )

    # --- time -----------------------------------------------------------------------------

    def step(self, dt: float) -> None:
        """Advance exactly `dt` simulated seconds (0 < dt <= 1)."""
        if not 0.0 < dt <= 1.0:
            raise ValueError(f"dt must be more than 0 and at most 1 s, not {dt!r}")
        now = self.elapsed + dt
        self.elapsed = now
        self._end_outage_if_due(now)
        self.inflow = self._inflow_model.inflow_at(now, dt)
        self.door_open = self._visits.door_open_at(now)
        self._update_generator(now)
        self._control(now)
        self._start_and_stop_pumps(now)
        self._solve_hydraulics()
        self._balance_mass(dt)
        self._accumulate(dt)
        self._measure_level()

    def advance(self, seconds: float, max_step: float = 1.0) -> None:
        """Advance `seconds` in steps of `max_step`, the last one shorter if need be."""
        if seconds < 0.0:
            raise ValueError(f"cannot advance by a negative time ({seconds!r} s)")
        if not 0.0 < max_step <= 1.0:
            raise ValueError(f"max_step must be more than 0 and at most 1 s, not {max_step!r}")
        whole_steps = int(seconds // max_step)
        for _ in range(whole_steps):
            self.step(max_step)
        rest = seconds - whole_steps * max_step
        if rest > _TIME_EPS:
            self.step(rest)

    # --- operator commands and fault injection --------------------------------------------
    # Each command ends with a controller scan: a PLC scans every few milliseconds, so it
    # reacts at the moment of the change (an Off selector stops the pump now, a standby is
    # commanded the moment the duty pump trips), not at the end of the next step.

    def set_scenario(self, scenario: ProcessScenario) -> None:
        """Switch scenario now; selecting the current one again restarts it.

        Leaving a scenario undoes its effects except latched pump faults, which operators
        clear with `reset_faults` as they would on site.
        """
        scenario = ProcessScenario(scenario)
        self._clear_scenario_effects()
        self.scenario = scenario
        if scenario is ProcessScenario.STORM:
            self._inflow_model.start_storm(self.elapsed)
        elif scenario is ProcessScenario.POWER_FAILURE:
            self._lose_mains()
        elif scenario is ProcessScenario.PUMP_FAULT:
            self._inject_pump_faults()
        self._scan()

    def set_hoa(self, pump: int, hoa: Hoa) -> None:
        target = self._pump(pump)
        target.hoa = Hoa(hoa)
        if target.hoa != Hoa.AUTO:
            target.remote_run = False  # so a return to Auto never starts it by surprise
        self._scan()

    def set_remote_mode(self, pump: int, enabled: bool) -> None:
        target = self._pump(pump)
        target.remote_mode = enabled
        if not enabled:
            target.remote_run = False
        self._scan()

    def command_remote_run(self, pump: int, run: bool) -> bool:
        """Accepted only in Auto with remote mode on; otherwise counted as rejected."""
        target = self._pump(pump)
        if target.hoa != Hoa.AUTO or not target.remote_mode:
            self.remote_commands_rejected += 1
            return False
        target.remote_run = run
        self._scan()
        return True

    def reset_faults(self, pump: int | None = None) -> None:
        """Clear trip, fail-to-start and seizure of `pump`, or of every pump."""
        targets = self.pumps if pump is None else [self._pump(pump)]
        for target in targets:
            target.tripped = False
            target.fail_to_start = False
            target.seized = False
        self._scan()

    def trip(self, pump: int) -> None:
        """Fault injection: the motor overload trips now."""
        self._pump(pump)._trip()
        self._scan()

    def seize(self, pump: int) -> None:
        """Fault injection: from now on a run command never makes the pump run."""
        self._pump(pump).seized = True

    def update_setpoints(self, **changes: float) -> None:
        """Change set points together; if the result is invalid nothing changes."""
        known = {spec.name for spec in fields(SetPoints)}
        for name in changes:
            if name not in known:
                raise ValueError(f"no set point {name!r}: the set points are {sorted(known)}")
        starts = changes.get("max_starts_per_hour")
        if starts is not None and float(starts).is_integer():
            changes["max_starts_per_hour"] = int(starts)
        candidate = copy(self.setpoints)
        for name, value in changes.items():
            setattr(candidate, name, value)
        candidate.validate(self.design)
        for name, value in changes.items():
            setattr(self.setpoints, name, value)
        self._apply_starts_limit()
        self._scan()

    def set_lead(self, pump: int) -> None:
        """Rotate the duty order so that `pump` leads."""
        position = self.rotation.index(self._pump(pump).number)
        self.rotation = self.rotation[position:] + self.rotation[:position]
        self._scan()

    # --- scenarios and power --------------------------------------------------------------

    def _clear_scenario_effects(self) -> None:
        self._inflow_model.end_storm()
        self._trip_at_next_start = None
        if self._seized_by_scenario is not None:
            self._pump(self._seized_by_scenario).seized = False
            self._seized_by_scenario = None
        if not self.mains_ok:
            self._restore_mains(self.elapsed)

    def _inject_pump_faults(self) -> None:
        """The lead trips (at its next start if it is stopped), the next pump is seized."""
        lead = self._pump(self.rotation[0])
        if lead.running:
            lead._trip()
        else:
            self._trip_at_next_start = lead.number
        if len(self.rotation) > 1:
            self._seized_by_scenario = self.rotation[1]
            self._pump(self._seized_by_scenario).seized = True

    def _lose_mains(self) -> None:
        self.mains_ok = False
        self._mains_lost_at = self.elapsed
        self._outage_ends_at = self.elapsed + self.design.power_outage_duration

    def _restore_mains(self, now: float) -> None:
        self.mains_ok = True
        self._mains_back_at = now
        self._outage_ends_at = None

    def _end_outage_if_due(self, now: float) -> None:
        if self._outage_ends_at is not None and now >= self._outage_ends_at - _TIME_EPS:
            self._restore_mains(now)

    def _update_generator(self, now: float) -> None:
        design = self.design
        if not self.mains_ok:
            waited = now - self._mains_lost_at
            if waited >= design.generator_start_delay - _TIME_EPS:
                self.generator_running = True
        elif (
            self.generator_running
            and now - self._mains_back_at >= design.generator_cooldown - _TIME_EPS
        ):
            # It ran on for a while in case the mains dropped again, as gensets are set to.
            self.generator_running = False

    def _pumps_powered(self) -> int:
        """How many pumps the supply can carry now."""
        if self.mains_ok:
            return len(self.pumps)
        if self.generator_running:
            return self.design.generator_max_pumps
        return 0

    # --- control ----------------------------------------------------------------------------

    def _scan(self) -> None:
        self._control(self.elapsed)

    def _control(self, now: float) -> None:
        self._forget_old_starts(now)
        self._update_demand()
        to_run = self._pumps_to_run()
        for pump in self.pumps:
            if pump.number in to_run:
                pump._command(now)
            elif pump.commanded:
                pump._stop()

    def _forget_old_starts(self, now: float) -> None:
        horizon = now - HOUR
        for pump in self.pumps:
            start_times = pump.start_times
            while start_times and start_times[0] <= horizon:
                start_times.popleft()

    def _update_demand(self) -> None:
        """Latch demand up as the level passes each start level; drop it all at stop."""
        setpoints = self.setpoints
        level = self.level
        if level <= setpoints.stop:
            if self.demand > 0:
                self._end_pumping_cycle()
            return
        if level >= setpoints.standby_start:
            wanted = 3
        elif level >= setpoints.lag_start:
            wanted = 2
        elif level >= setpoints.lead_start:
            wanted = 1
        else:
            wanted = 0
        self.demand = min(max(self.demand, wanted), len(self.pumps))

    def _end_pumping_cycle(self) -> None:
        self.demand = 0
        if self._lead_ran_this_cycle:  # share the wear: the lead goes to the back
            self.rotation.append(self.rotation.pop(0))
        self._lead_ran_this_cycle = False

    def _pumps_to_run(self) -> set[int]:
        """Numbers of the pumps that should run: level control first, then Hand and remote."""
        if self._dry_run_cutout_active():
            return set()  # hard-wired, so it beats every selector
        capacity = self._pumps_powered()
        if capacity == 0:
            return set()
        wanted = self._level_control_assignment()
        wanted += [pump.number for pump in self.pumps if pump.may_run_manually]
        return set(wanted[:capacity])

    def _dry_run_cutout_active(self) -> bool:
        """Set by the low float; released only once the level has recovered a little.

        A float switch has a differential: without it a pump in Hand would restart the
        moment the float lifts, and chatter every few seconds at the low float.
        """
        if self.low_float:
            self._dry_run_cutout = True
        elif self.level >= self.design.low_float + _LOW_FLOAT_DIFFERENTIAL:
            self._dry_run_cutout = False
        return self._dry_run_cutout

    def _level_control_assignment(self) -> list[int]:
        """The first `demand` available pumps in duty order, those already running first.

        Preferring running pumps means a standby that took over for a tripped pump keeps
        running when the fault is reset, instead of stopping one pump to start another.
        """
        if self.demand == 0:
            return []
        pumps = self.pumps
        candidates = [number for number in self.rotation if pumps[number - 1].available]
        candidates.sort(key=lambda number: not pumps[number - 1].running)
        return candidates[: self.demand]

    def _start_and_stop_pumps(self, now: float) -> None:
        design = self.design
        faulted = False
        for pump in self.pumps:
            if not pump.commanded or pump.running:
                continue
            waited = now - pump._commanded_since
            if pump.seized:
                if waited >= design.fail_to_start_time - _TIME_EPS:
                    pump.fail_to_start = True
                    pump._stop()
                    faulted = True
            elif waited >= design.start_delay - _TIME_EPS:
                if pump.number == self._trip_at_next_start:
                    self._trip_at_next_start = None
                    pump._trip()
                    faulted = True
                else:
                    pump.running = True
                    pump.starts += 1
                    pump.start_times.append(now)
        if faulted:
            self._control(now)  # the standby is commanded at the moment the fault latches
        lead = self.pumps[self.rotation[0] - 1]
        if self.demand > 0 and lead.running:
            self._lead_ran_this_cycle = True

    def _apply_starts_limit(self) -> None:
        for pump in self.pumps:
            pump._max_starts_per_hour = self.setpoints.max_starts_per_hour

    # --- physics ----------------------------------------------------------------------------

    def _solve_hydraulics(self) -> None:
        running = sum(pump.running for pump in self.pumps)
        point = hydraulics.duty_point(self.design, running, self.level)
        for pump in self.pumps:
            duty = point if pump.running else hydraulics.STOPPED
            pump.flow, pump.head, pump.power, pump.current = duty
        self.outflow = point.flow * running
        self.discharge_pressure = hydraulics.header_pressure_bar(
            self.design, self.level, self.outflow
        )

    def _balance_mass(self, dt: float) -> None:
        """Move the step's water; every m³ ends up in the well, the force main or the overflow."""
        area = self.design.wet_well_area
        arrived = self.inflow * dt
        pumped = self.outflow * dt
        volume = self.level * area + arrived - pumped
        if volume < 0.0:
            pumped += volume  # the pumps cannot move water the well does not hold
            volume = 0.0
        spill_volume = self.design.overflow_level * area
        spilled = 0.0
        if volume > spill_volume:
            spilled = volume - spill_volume
            self.level = self.design.overflow_level
        else:
            self.level = volume / area
        self.inflow_volume += arrived
        self.pumped_volume += pumped
        self.overflow_volume += spilled

    def _accumulate(self, dt: float) -> None:
        ambient = self.design.ambient_temperature
        for pump in self.pumps:
            if pump.running:
                pump.run_seconds += dt
                self.energy_kwh += pump.power * dt / HOUR
            target = ambient + _MOTOR_RISE if pump.running else ambient
            pump.motor_temperature = hydraulics.first_order(
                pump.motor_temperature, target, dt, _MOTOR_TIME_CONSTANT
            )

    def _measure_level(self) -> None:
        reading = self.level + self._transmitter_rng.gauss(0.0, _LEVEL_NOISE_SD)
        self.level_measured = min(self.design.wet_well_depth, max(0.0, reading))

    def _pump(self, number: int) -> Pump:
        if not 1 <= number <= len(self.pumps):
            raise ValueError(f"no pump {number}: the station has pumps 1-{len(self.pumps)}")
        return self.pumps[number - 1]


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"start must be timezone-aware, not {moment.isoformat()}")
    return moment.astimezone(UTC)
