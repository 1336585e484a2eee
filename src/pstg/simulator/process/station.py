"""`PumpStation`: the lift station's parts on one clock, its operator commands, what it shows.

The simulator's register map reads the public attributes of `PumpStation` and writes operator
commands through its methods; nothing here knows about Modbus.

`PumpStation.step(dt)` advances simulated time by `dt` seconds in this order: the supply
(an outage that ends, the generator), inflow and maintenance visits, the level controller,
the pumps' starters, hydraulics, mass balance, totals and the level measurement. Events are
due when the clock reaches them, so after `advance(30)` a generator with a 30 s start delay is
running. Every random number comes from `random.Random` instances seeded from `seed`, so the
trajectory is a pure function of the seed, the start time and the sequence of calls.
"""

from __future__ import annotations

import random
from copy import copy
from dataclasses import fields
from datetime import datetime

from pstg.simulator.process import hydraulics
from pstg.simulator.process.clock import Clock
from pstg.simulator.process.control import LevelController
from pstg.simulator.process.design import SetPoints, StationDesign
from pstg.simulator.process.inflow import InflowModel, MaintenanceVisits
from pstg.simulator.process.power import PowerSupply
from pstg.simulator.process.pump import Hoa, Pump
from pstg.simulator.process.scenarios import ProcessScenario, ScenarioEffects
from pstg.simulator.process.wet_well import LevelTransmitter, WetWell

_REFERENCE_DESIGN = StationDesign()


class PumpStation:
    """A lift station advanced in steps of simulated time; see the module docstring."""

    def __init__(
        self,
        design: StationDesign = _REFERENCE_DESIGN,
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
        self.clock = Clock(start)
        self.initial_level = initial_level
        self.wet_well = WetWell(design, initial_level)
        self.pumps = [
            Pump(number, motor_temperature=design.ambient_temperature)
            for number in range(1, design.pump_count + 1)
        ]
        self.controller = LevelController(design, setpoints, self.pumps)
        self.power = PowerSupply(design)
        self.scenario = ProcessScenario.NORMAL
        self._effects = ScenarioEffects()
        self.remote_commands_rejected = 0
        self.energy_kwh = 0.0

        # Separate streams, so that e.g. adding door visits never changes the inflow.
        self.inflow_model = InflowModel(design, random.Random(f"{seed}:inflow"), self.start)
        self.visits = MaintenanceVisits(random.Random(f"{seed}:door"), self.start)
        self.transmitter = LevelTransmitter(design, random.Random(f"{seed}:level-transmitter"))
        self.inflow = self.inflow_model.inflow_at(0.0, 0.0)
        self.door_open = self.visits.door_open_at(0.0)
        self.outflow = 0.0
        self.discharge_pressure = 0.0
        self._solve_hydraulics()
        self.transmitter.measure(self.wet_well.level)

    # --- what the station shows ---------------------------------------------------------

    @property
    def start(self) -> datetime:
        """When simulated time began, aware UTC."""
        return self.clock.start

    @property
    def elapsed(self) -> float:
        """Simulated seconds since `start`."""
        return self.clock.elapsed

    @property
    def time(self) -> datetime:
        """Simulated time, aware UTC."""
        return self.clock.time

    @property
    def level(self) -> float:
        """The wet well's true level, m (the transmitter shows `level_measured`)."""
        return self.wet_well.level

    @property
    def level_measured(self) -> float:
        return self.transmitter.reading

    @property
    def inflow_volume(self) -> float:
        return self.wet_well.inflow_volume

    @property
    def pumped_volume(self) -> float:
        return self.wet_well.pumped_volume

    @property
    def overflow_volume(self) -> float:
        return self.wet_well.overflow_volume

    @property
    def rotation(self) -> list[int]:
        """The duty order, lead first."""
        return self.controller.rotation

    @property
    def demand(self) -> int:
        return self.controller.demand

    @property
    def lead_pump(self) -> int:
        return self.controller.lead_pump

    @property
    def mains_ok(self) -> bool:
        return self.power.mains_ok

    @property
    def generator_running(self) -> bool:
        return self.power.generator_running

    @property
    def on_generator(self) -> bool:
        return self.power.on_generator

    @property
    def power_available(self) -> bool:
        return self.power.available

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
    def high_pressure_alarm(self) -> bool:
        """The discharge header is at or above its high pressure set point (a blocked main)."""
        return self.discharge_pressure >= self.setpoints.high_pressure

    @property
    def pump_fault_alarm(self) -> bool:
        return any(pump.tripped or pump.fail_to_start for pump in self.pumps)

    @property
    def common_alarm(self) -> bool:
        return (
            self.high_high_float
            or self.high_level_alarm
            or self.high_pressure_alarm
            or self.low_float
            or self.pump_fault_alarm
            or not self.mains_ok
            or self.door_open
            or self.overflowing
        )

    # --- time -----------------------------------------------------------------------------

    def step(self, dt: float) -> None:
        """Advance exactly `dt` simulated seconds (0 < dt <= 1)."""
        now = self.clock.tick(dt)
        self.power.step(now)
        self.inflow = self.inflow_model.inflow_at(now, dt)
        self.door_open = self.visits.door_open_at(now)
        level = self.wet_well.level
        capacity = self.power.pumps_powered(len(self.pumps))
        self.controller.scan(now, level, capacity)
        self.controller.run_starters(now, level, capacity)
        self._solve_hydraulics()
        self.wet_well.balance(self.inflow, self.outflow, dt)
        self._accumulate(dt)
        self.transmitter.measure(self.wet_well.level)

    def advance(self, seconds: float, max_step: float = 1.0) -> None:
        """Advance `seconds` in steps of `max_step`, the last one shorter if need be."""
        for dt in Clock.steps(seconds, max_step):
            self.step(dt)

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
        self._effects.undo(self)
        self.scenario = scenario
        self._effects.begin(self, scenario)
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
        self._pump(pump).trip()
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
        self.controller.apply_starts_limit()
        self._scan()

    def set_lead(self, pump: int) -> None:
        """Rotate the duty order so that `pump` leads."""
        self.controller.set_lead(self._pump(pump).number)
        self._scan()

    def _scan(self) -> None:
        capacity = self.power.pumps_powered(len(self.pumps))
        self.controller.scan(self.elapsed, self.wet_well.level, capacity)

    def _pump(self, number: int) -> Pump:
        if not 1 <= number <= len(self.pumps):
            raise ValueError(f"no pump {number}: the station has pumps 1-{len(self.pumps)}")
        return self.pumps[number - 1]

    # --- physics ----------------------------------------------------------------------------

    def _solve_hydraulics(self) -> None:
        """The running pumps' common duty point at the current level; outflow and pressure."""
        running = sum(pump.running for pump in self.pumps)
        level = self.wet_well.level
        point = hydraulics.duty_point(self.design, running, level)
        for pump in self.pumps:
            pump.run_at(point if pump.running else hydraulics.STOPPED)
        if any(pump.ragged for pump in self.pumps):
            self.outflow = sum(pump.flow for pump in self.pumps)
        else:
            self.outflow = point.flow * running
        self.discharge_pressure = hydraulics.header_pressure_bar(self.design, level, self.outflow)

    def _accumulate(self, dt: float) -> None:
        """Run hours, motor temperatures and energy after `dt` seconds."""
        ambient = self.design.ambient_temperature
        for pump in self.pumps:
            self.energy_kwh += pump.accumulate(dt, ambient)
