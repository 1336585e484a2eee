"""The station's supply: mains, and the standby generator that carries it through an outage.

When the mains fail the generator starts after its start delay and can carry
`generator_max_pumps` pumps; when the mains return it runs on for its cooldown (in case they
drop again, as gensets are set to) and stops. `pumps_powered` is what the controller may run.
An outage started by `lose_mains` ends by itself after the design's outage duration. A
generator with `fails_to_start` set (a flat battery, no fuel) never starts.
"""

from __future__ import annotations

from pstg.simulator.process.clock import TIME_EPS
from pstg.simulator.process.design import StationDesign


class PowerSupply:
    """Mains and generator; see the module docstring."""

    def __init__(self, design: StationDesign) -> None:
        self._design = design
        self.mains_ok = True
        self.generator_running = False
        self._mains_lost_at = 0.0
        self._mains_back_at = 0.0
        self._outage_ends_at: float | None = None
        self.fails_to_start = False
        """Injected fault: the generator does not start when the mains fail."""

    @property
    def on_generator(self) -> bool:
        """The generator carries the station (the mains are down)."""
        return not self.mains_ok and self.generator_running

    @property
    def available(self) -> bool:
        """Some supply is there: mains or generator."""
        return self.mains_ok or self.generator_running

    def lose_mains(self, now: float) -> None:
        """The mains fail at `now` for the design's outage duration."""
        self.mains_ok = False
        self._mains_lost_at = now
        self._outage_ends_at = now + self._design.power_outage_duration

    def restore_mains(self, now: float) -> None:
        """The mains are back at `now`; the generator starts its cooldown."""
        self.mains_ok = True
        self._mains_back_at = now
        self._outage_ends_at = None

    def step(self, now: float) -> None:
        """Time is `now`: end an outage that is due, start or stop the generator."""
        if self._outage_ends_at is not None and now >= self._outage_ends_at - TIME_EPS:
            self.restore_mains(now)
        design = self._design
        if not self.mains_ok:
            waited = now - self._mains_lost_at
            if not self.fails_to_start and waited >= design.generator_start_delay - TIME_EPS:
                self.generator_running = True
        elif (
            self.generator_running
            and now - self._mains_back_at >= design.generator_cooldown - TIME_EPS
        ):
            # It ran on for a while in case the mains dropped again, as gensets are set to.
            self.generator_running = False

    def pumps_powered(self, pump_count: int) -> int:
        """How many of `pump_count` pumps the supply can carry now."""
        if self.mains_ok:
            return pump_count
        if self.generator_running:
            return self._design.generator_max_pumps
        return 0
