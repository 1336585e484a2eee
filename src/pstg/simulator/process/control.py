"""The station PLC's pump control: which pumps should run, scan by scan.

- Level control, lead/lag/standby: demand latches up as the level passes the lead, lag and
  standby start levels and drops to none at the stop level; the first `demand` available
  pumps in duty order run, those already running first.
- Alternation: after a pumping cycle in which the lead ran, it goes to the back of the duty
  order, to share the wear.
- Hand and remote: a pump in Hand, or in Auto with remote mode and a remote run command, runs
  besides level control; the supply's capacity (`power.py`) caps the total.
- Protection: the low float's dry-run cut-out stops every pump (it is hard-wired, so it beats
  every selector) until the level has recovered a little; a pump that reached the starts
  limit in the last hour is not started by level control.
- The starters: a commanded pump runs after the start delay; when a fault latches there, the
  controller scans again at once so the standby is commanded the moment it happens.
"""

from __future__ import annotations

from pstg.simulator.process.design import SetPoints, StationDesign
from pstg.simulator.process.inflow import HOUR
from pstg.simulator.process.pump import Pump

_LOW_FLOAT_DIFFERENTIAL = 0.10  # m the level must recover before the dry-run cut-out re-arms


class LevelController:
    """Pump control of one station; see the module docstring.

    `setpoints` is read at every scan, so changing it in place takes effect at the next one
    (call `apply_starts_limit` after changing `max_starts_per_hour`).
    """

    def __init__(self, design: StationDesign, setpoints: SetPoints, pumps: list[Pump]) -> None:
        self._design = design
        self._setpoints = setpoints
        self._pumps = pumps
        self.rotation = [pump.number for pump in pumps]
        """The duty order: pump numbers, the lead first."""
        self.demand = 0
        """How many pumps level control asks for (latched between start and stop levels)."""
        self._lead_ran_this_cycle = False
        self._dry_run_cutout = False
        self.apply_starts_limit()

    @property
    def lead_pump(self) -> int:
        """The number of the pump that starts first."""
        return self.rotation[0]

    def set_lead(self, number: int) -> None:
        """Rotate the duty order so that pump `number` leads."""
        position = self.rotation.index(number)
        self.rotation = self.rotation[position:] + self.rotation[:position]

    def apply_starts_limit(self) -> None:
        """Give every pump the set points' starts limit."""
        for pump in self._pumps:
            pump.limit_starts(self._setpoints.max_starts_per_hour)

    def scan(self, now: float, level: float, capacity: int) -> None:
        """Command the pumps that should run at `level`, `capacity` pumps at most; stop the rest."""
        horizon = now - HOUR
        for pump in self._pumps:
            pump.forget_starts_before(horizon)
        self._update_demand(level)
        to_run = self._pumps_to_run(level, capacity)
        for pump in self._pumps:
            if pump.number in to_run:
                pump.command(now)
            elif pump.commanded:
                pump.stop()

    def run_starters(self, now: float, level: float, capacity: int) -> None:
        """Let the commanded pumps start (or fault) as of `now`."""
        faulted = False
        for pump in self._pumps:
            if pump.commanded and not pump.running:
                faulted = pump.advance_starter(now, self._design) or faulted
        if faulted:
            self.scan(
                now, level, capacity
            )  # the standby is commanded at the moment the fault latches
        lead = self._pumps[self.rotation[0] - 1]
        if self.demand > 0 and lead.running:
            self._lead_ran_this_cycle = True

    def _update_demand(self, level: float) -> None:
        """Latch demand up as the level passes each start level; drop it all at stop."""
        setpoints = self._setpoints
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
        self.demand = min(max(self.demand, wanted), len(self._pumps))

    def _end_pumping_cycle(self) -> None:
        self.demand = 0
        if self._lead_ran_this_cycle:  # share the wear: the lead goes to the back
            self.rotation.append(self.rotation.pop(0))
        self._lead_ran_this_cycle = False

    def _pumps_to_run(self, level: float, capacity: int) -> set[int]:
        """Numbers of the pumps that should run: level control first, then Hand and remote."""
        if self._dry_run_cutout_active(level):
            return set()  # hard-wired, so it beats every selector
        if capacity == 0:
            return set()
        wanted = self._level_control_assignment()
        wanted += [pump.number for pump in self._pumps if pump.may_run_manually]
        return set(wanted[:capacity])

    def _dry_run_cutout_active(self, level: float) -> bool:
        """Set by the low float; released only once the level has recovered a little.

        A float switch has a differential: without it a pump in Hand would restart the
        moment the float lifts, and chatter every few seconds at the low float.
        """
        low_float = self._design.low_float
        if level <= low_float:
            self._dry_run_cutout = True
        elif level >= low_float + _LOW_FLOAT_DIFFERENTIAL:
            self._dry_run_cutout = False
        return self._dry_run_cutout

    def _level_control_assignment(self) -> list[int]:
        """The first `demand` available pumps in duty order, those already running first.

        Preferring running pumps means a standby that took over for a tripped pump keeps
        running when the fault is reset, instead of stopping one pump to start another.
        """
        if self.demand == 0:
            return []
        pumps = self._pumps
        candidates = [number for number in self.rotation if pumps[number - 1].available]
        candidates.sort(key=lambda number: not pumps[number - 1].running)
        return candidates[: self.demand]
