"""A pump set: its Hand-Off-Auto selector, remote control, starter, protection and motor.

A `Pump` holds what the register map shows of one pump and what happens inside its starter
panel: a run command becomes running after the start delay unless the pump is seized (then
fail-to-start latches) or an injected overload trips it at the start. Which pumps are asked to
run is the controller's business (`control.py`); the duty point comes from `hydraulics.py`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum

from pstg.simulator.process.clock import TIME_EPS
from pstg.simulator.process.design import SetPoints, StationDesign
from pstg.simulator.process.hydraulics import DutyPoint, first_order
from pstg.simulator.process.inflow import HOUR

_MOTOR_RISE = 35.0  # °C a loaded motor settles above ambient
_MOTOR_TIME_CONSTANT = 20 * 60.0  # s
RAGGED_FLOW = 0.25
"""A ragged pump delivers this share of the flow its curve gives: rags choke the impeller."""
RAGGED_CURRENT = 1.5
"""...and draws this many times the current: the rags drag on the impeller. The winding heats
with the square of the current, so it settles far hotter than a healthy motor."""


class Hoa(IntEnum):
    """The Hand-Off-Auto selector on a pump's starter."""

    OFF = 0
    HAND = 1
    AUTO = 2


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
    trip_at_next_start: bool = False  # injected fault: the overload trips when it next starts
    ragged: bool = False  # injected fault: rags in the impeller (less flow, more current)
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

    # --- the starter ------------------------------------------------------------------------

    def command(self, now: float) -> None:
        """Ask the pump to run (from `now`, if it was not asked already)."""
        if not self.commanded:
            self.commanded = True
            self._commanded_since = now

    def stop(self) -> None:
        """Drop the run command; the pump stops now."""
        self.commanded = False
        self.running = False

    def trip(self) -> None:
        """The motor overload trips: the pump stops and stays tripped until reset."""
        self.tripped = True
        self.stop()

    def limit_starts(self, per_hour: int) -> None:
        """The starts limit: with this many starts in the last hour, level control skips it."""
        self._max_starts_per_hour = per_hour

    def forget_starts_before(self, horizon: float) -> None:
        """Drop the start times at or before `horizon` (elapsed s) from the last-hour window."""
        start_times = self.start_times
        while start_times and start_times[0] <= horizon:
            start_times.popleft()

    def advance_starter(self, now: float, design: StationDesign) -> bool:
        """A commanded, stopped pump starts once the start delay has passed; True if instead a
        fault latched (fail-to-start of a seized pump, an injected trip at the start)."""
        waited = now - self._commanded_since
        if self.seized:
            if waited >= design.fail_to_start_time - TIME_EPS:
                self.fail_to_start = True
                self.stop()
                return True
        elif waited >= design.start_delay - TIME_EPS:
            if self.trip_at_next_start:
                self.trip_at_next_start = False
                self.trip()
                return True
            self.running = True
            self.starts += 1
            self.start_times.append(now)
        return False

    # --- the motor --------------------------------------------------------------------------

    def run_at(self, duty: DutyPoint) -> None:
        """Flow, head, power and current are those of `duty` now (a ragged pump moves less
        and draws more)."""
        self.flow, self.head, self.power, self.current = duty
        if self.ragged:
            self.flow *= RAGGED_FLOW
            self.power *= RAGGED_CURRENT
            self.current *= RAGGED_CURRENT

    def accumulate(self, dt: float, ambient: float) -> float:
        """Run hours and motor temperature after `dt` seconds; the kWh used meanwhile."""
        used = 0.0
        if self.running:
            self.run_seconds += dt
            used = self.power * dt / HOUR
        load = (RAGGED_CURRENT if self.ragged else 1.0) ** 2  # heat goes with current²
        target = ambient + _MOTOR_RISE * load if self.running else ambient
        self.motor_temperature = first_order(
            self.motor_temperature, target, dt, _MOTOR_TIME_CONSTANT
        )
        return used
