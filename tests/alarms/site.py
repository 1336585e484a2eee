"""A simulated station and its seeded config's alarm engine, fed as the collector would feed
them: every register map point read each second as a sample at simulated time."""

from __future__ import annotations

import math

from pstg.alarms import AlarmEngine, AlarmState, Transition
from pstg.config.loader import load_config_text
from pstg.model import QualityReason, Sample
from pstg.simulator.process import PumpStation, StationDesign
from pstg.simulator.registers import RegisterMap
from pstg.simulator.seed import SeedOptions, seed_config_text


class Site:
    """A simulated station, its seeded config's alarm engine, and the journal so far."""

    def __init__(self, design: StationDesign | None = None, *, initial_level: float = 1.2) -> None:
        design = design or StationDesign()
        self.config = load_config_text(seed_config_text(SeedOptions(), design))
        self.engine = AlarmEngine(self.config)
        self.station = PumpStation(design, initial_level=initial_level)
        # Only the tags some rule reads: the engine ignores the others anyway, and a simulated
        # day goes faster without them.
        watched = self.engine.watched_tags()
        self.points = tuple(p for p in RegisterMap(design).points if p.name in watched)
        self.journal: list[tuple[float, Transition, float]] = []  # (elapsed, step, level)
        self.offline = False

    def samples(self) -> list[Sample]:
        ts = self.station.time
        if self.offline:
            return [Sample.bad(p.name, ts, QualityReason.TIMEOUT) for p in self.points]
        out = []
        for point in self.points:
            value = point.read(self.station)
            if isinstance(value, str):
                out.append(Sample(point.name, ts, value))
            elif math.isnan(value):  # the codec reads NaN as "the device has no value"
                out.append(Sample.bad(point.name, ts, QualityReason.NO_READING))
            else:
                out.append(Sample(point.name, ts, float(value)))
        return out

    def run(self, seconds: int) -> None:
        for _ in range(seconds):
            self.station.step(1.0)
            got = self.engine.process(self.samples()) + self.engine.tick(self.station.time)
            level = self.station.level_measured
            self.journal += [(self.station.elapsed, t, level) for t in got]

    def run_until(self, alarm_id: str, state: AlarmState, within: int) -> float:
        """Seconds until `alarm_id` reaches `state`; fails after `within` simulated seconds."""
        start = self.station.elapsed
        while self.station.elapsed - start < within:
            self.run(1)
            if self.engine.get(alarm_id).state is state:
                return self.station.elapsed - start
        raise AssertionError(f"{alarm_id} not {state} within {within} s")

    def steps(self, alarm_id: str) -> list[tuple[float, Transition, float]]:
        return [entry for entry in self.journal if entry[1].alarm_id == alarm_id]
