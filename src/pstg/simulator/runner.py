"""The running simulator: process models on a clock, their servers, and scenario control.

The clock advances every model in fixed steps of simulated time, as many as wall time × speed
calls for. Fixed steps keep a run reproducible: for a given seed the process follows the same
trajectory however the event loop happens to be scheduled; only the moments at which a client
samples it differ. When the machine cannot keep up with the requested speed the clock caps the
steps per tick and says so, instead of stalling the Modbus servers.

The scenario can be changed while running with `set_scenario`, or by writing a scenario name
into the control file (`--control-file`), which the simulator checks twice a second.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from pstg.simulator.faults import FlakyProfile, LinkFaults
from pstg.simulator.process import PumpStation, StationDesign
from pstg.simulator.registers import RegisterMap
from pstg.simulator.scenarios import LinkMode, Scenario, parse_scenario
from pstg.simulator.server import SimulatedUnit, StationServer

log = logging.getLogger("pstg.simulator")

MAX_STEPS_PER_TICK = 2000
CONTROL_FILE_CHECK = 0.5


@dataclasses.dataclass(frozen=True)
class SimulatorOptions:
    host: str = "127.0.0.1"
    port: int = 15020
    """First station's port; station n listens on port + n - 1. 0: free ports (tests)."""
    units: tuple[int, ...] = (1,)
    stations: int = 1
    scenario: Scenario = dataclasses.field(default_factory=Scenario)
    seed: int = 1
    speed: float = 1.0
    start: datetime | None = None
    step: float = 1.0
    """Simulated seconds per model step."""
    tick: float = 0.1
    """Wall seconds between clock updates."""
    design: StationDesign = dataclasses.field(default_factory=StationDesign)
    flaky: FlakyProfile = dataclasses.field(default_factory=FlakyProfile)
    control_file: Path | None = None

    def __post_init__(self) -> None:
        if not self.units:
            raise ValueError("at least one unit id is needed")
        if bad := [u for u in self.units if not 1 <= u <= 247]:
            raise ValueError(f"unit ids must be 1..247, not {bad[0]}")
        if len(set(self.units)) != len(self.units):
            raise ValueError("unit ids repeat")
        if self.stations < 1:
            raise ValueError("at least one station is needed")
        if self.port and self.port + self.stations - 1 > 65535:
            raise ValueError(f"{self.stations} stations from port {self.port} run past 65535")
        if not self.speed > 0 or not math.isfinite(self.speed):
            raise ValueError(f"speed must be a positive number, not {self.speed}")
        if not 0 < self.step <= 1.0:
            raise ValueError("step must be in (0, 1] simulated seconds")


class Simulator:
    """Models, servers, clock and scenario control; `async with Simulator(options):`."""

    def __init__(self, options: SimulatorOptions) -> None:
        self.options = options
        self.scenario = options.scenario
        self.servers: list[StationServer] = []
        self.units: list[SimulatedUnit] = []
        for station_index in range(options.stations):
            units = {}
            for unit_id in options.units:
                units[unit_id] = self._unit(unit_id, index=len(self.units))
                self.units.append(units[unit_id])
            port = options.port + station_index if options.port else 0
            faults = LinkFaults(options.seed + station_index, options.flaky)
            self.servers.append(StationServer(units, host=options.host, port=port, faults=faults))
        self.steps = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._offline: asyncio.Task[None] | None = None
        self._behind_warned = False

    def _unit(self, unit_id: int, *, index: int) -> SimulatedUnit:
        options = self.options
        design = options.design
        if index:
            design = dataclasses.replace(design, name=f"{design.name} #{index + 1}")
        station = PumpStation(design, seed=options.seed + index, start=options.start)
        return SimulatedUnit(unit_id, station, RegisterMap(design))

    @property
    def stations(self) -> list[PumpStation]:
        return [unit.station for unit in self.units]

    @property
    def ports(self) -> list[int]:
        return [server.port for server in self.servers]

    async def start(self) -> None:
        for server in self.servers:
            await server.start()
        self.set_scenario(self.scenario)
        self._tasks.append(asyncio.create_task(self._clock(), name="simulator clock"))
        if self.options.control_file is not None:
            path = self.options.control_file
            # Only changes after the start count: --scenario says what runs first.
            watch = self._watch_control_file(path, _mtime(path))
            self._tasks.append(asyncio.create_task(watch, name="simulator control file"))

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._offline] if self._offline else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._offline = None
        for server in self.servers:
            await server.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def set_scenario(self, scenario: Scenario) -> None:
        """Switch every station to `scenario` now (process and link)."""
        previous, self.scenario = self.scenario, scenario
        log.info("scenario: %s", scenario)
        for unit in self.units:
            if scenario.process is not previous.process or not self._tasks:
                unit.station.set_scenario(scenario.process)
                unit.touch()
        for server in self.servers:
            server.faults.flaky = scenario.link is LinkMode.FLAKY
        if self._offline is not None:
            self._offline.cancel()
            self._offline = None
        if scenario.link is LinkMode.OFFLINE:
            self._offline = asyncio.create_task(self._go_offline(scenario.offline_seconds))
        else:
            self._ensure_listening()

    def advance(self, steps: int) -> None:
        """Advance every model by `steps` fixed steps (the clock calls this)."""
        for unit in self.units:
            station = unit.station
            for _ in range(steps):
                station.step(self.options.step)
            unit.touch()
        self.steps += steps

    async def _clock(self) -> None:
        loop = asyncio.get_running_loop()
        options = self.options
        origin = loop.time()
        origin_steps = self.steps
        while True:
            await asyncio.sleep(options.tick)
            target = int((loop.time() - origin) * options.speed / options.step)
            due = target - (self.steps - origin_steps)
            if due > MAX_STEPS_PER_TICK:
                if not self._behind_warned:
                    log.warning(
                        "the simulator cannot keep up with --speed %g on this machine; "
                        "simulated time runs slower",
                        options.speed,
                    )
                    self._behind_warned = True
                # Let simulated time slip rather than starve the servers.
                origin_steps += due - MAX_STEPS_PER_TICK
                due = MAX_STEPS_PER_TICK
            if due > 0:
                self.advance(due)

    async def _go_offline(self, seconds: float) -> None:
        log.info("link offline for %g s", seconds)
        for server in self.servers:
            await server.stop()
        await asyncio.sleep(seconds)
        for server in self.servers:
            await server.start()
        self.scenario = dataclasses.replace(self.scenario, link=LinkMode.NONE)
        self._offline = None
        log.info("link back online; scenario: %s", self.scenario)

    def _ensure_listening(self) -> None:
        if all(server.listening for server in self.servers):
            return
        task = asyncio.create_task(self._restart_servers())
        self._tasks.append(task)

    async def _restart_servers(self) -> None:
        for server in self.servers:
            await server.start()

    async def _watch_control_file(self, path: Path, seen: float | None) -> None:
        while True:
            await asyncio.sleep(CONTROL_FILE_CHECK)
            mtime = _mtime(path)
            if mtime is None or mtime == seen:
                continue
            seen = mtime
            try:
                scenario = parse_scenario(read_control_file(path))
            except (OSError, ValueError) as exc:
                log.warning("%s: %s (scenario unchanged: %s)", path, exc, self.scenario)
                continue
            self.set_scenario(scenario)


def read_control_file(path: Path) -> str:
    """The scenario text of a control file: its lines without comments, joined by commas."""
    lines = path.read_text(encoding="utf-8").splitlines()
    words = [line.partition("#")[0].strip() for line in lines]
    return ",".join(word for word in words if word)


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime_ns / 1e9
    except OSError:
        return None


def units_from_text(text: str) -> tuple[int, ...]:
    """`1`, `1,2,5`, `1-8` or a mix (`1-4,10`) as unit ids; ValueError names the bad part."""
    units: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        low, dash, high = part.partition("-")
        try:
            first = int(low)
            last = int(high) if dash else first
        except ValueError:
            raise ValueError(f"{part!r} is not a unit id or a range like 1-8") from None
        if last < first:
            raise ValueError(f"{part!r}: the range runs backwards")
        units.extend(range(first, last + 1))
    return tuple(units)
