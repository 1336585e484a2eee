"""Process scenarios: what each one does to the station, and how leaving it is undone.

    normal          nothing is wrong
    storm           a storm hydrograph on top of the dry-weather inflow (`inflow.py`)
    pump-fault      the lead pump trips (at its next start if it is stopped), the next is seized
    power-failure   the mains fail for the design's outage duration (`power.py`)
    generator-fail  the same outage, and the generator does not start
    ragging         rags in the lead pump's impeller: its flow drops, its current rises
    transmitter-stuck  the level transmitter's reading stops following the level
    transmitter-fault  the level transmitter's signal is lost (the PLC reads no value)

A scenario acts through the faults its parts can have (a storm in the inflow model, a seized
pump, lost mains), so a new scenario is an entry in `ProcessScenario`, its `_begin_...`
function in `_BEGIN`, and what undoing it takes in `ScenarioEffects.undo`. The names users
type (and the link faults beside them) are parsed in `pstg.simulator.scenarios`.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from pstg.simulator.process.pump import Pump

if TYPE_CHECKING:
    from pstg.simulator.process.station import PumpStation


class ProcessScenario(StrEnum):
    NORMAL = "normal"
    STORM = "storm"
    PUMP_FAULT = "pump-fault"
    POWER_FAILURE = "power-failure"
    GENERATOR_FAIL = "generator-fail"
    RAGGING = "ragging"
    TRANSMITTER_STUCK = "transmitter-stuck"
    TRANSMITTER_FAULT = "transmitter-fault"


class ScenarioEffects:
    """The effects of the scenario in force that leaving it must undo."""

    def __init__(self) -> None:
        self.trip_armed: Pump | None = None
        """The pump the scenario set to trip at its next start."""
        self.seized: Pump | None = None
        """The pump the scenario seized."""
        self.ragged: Pump | None = None
        """The pump the scenario ragged."""

    def begin(self, station: PumpStation, scenario: ProcessScenario) -> None:
        """Start `scenario`'s effects on `station` (after `undo` of the previous one)."""
        begin = _BEGIN.get(scenario)
        if begin is not None:
            begin(station, self)

    def undo(self, station: PumpStation) -> None:
        """Undo what any scenario did, except latched pump faults (operators reset those)."""
        station.inflow_model.end_storm()
        if self.trip_armed is not None:
            self.trip_armed.trip_at_next_start = False
            self.trip_armed = None
        if self.seized is not None:
            self.seized.seized = False
            self.seized = None
        if self.ragged is not None:
            self.ragged.ragged = False  # the crew pulled the rags out
            self.ragged = None
        station.power.fails_to_start = False
        if not station.power.mains_ok:
            station.power.restore_mains(station.elapsed)
        station.transmitter.stuck = station.transmitter.failed = False


def _begin_storm(station: PumpStation, effects: ScenarioEffects) -> None:
    station.inflow_model.start_storm(station.elapsed)


def _begin_pump_fault(station: PumpStation, effects: ScenarioEffects) -> None:
    """The lead trips (at its next start if it is stopped), the next pump is seized."""
    rotation = station.rotation
    lead = station.pumps[rotation[0] - 1]
    if lead.running:
        lead.trip()
    else:
        lead.trip_at_next_start = True
        effects.trip_armed = lead
    if len(rotation) > 1:
        seized = station.pumps[rotation[1] - 1]
        seized.seized = True
        effects.seized = seized


def _begin_power_failure(station: PumpStation, effects: ScenarioEffects) -> None:
    station.power.lose_mains(station.elapsed)


def _begin_generator_fail(station: PumpStation, effects: ScenarioEffects) -> None:
    station.power.fails_to_start = True
    station.power.lose_mains(station.elapsed)


def _begin_ragging(station: PumpStation, effects: ScenarioEffects) -> None:
    """The lead pump rags up; it keeps its place in the duty order, as on site."""
    pump = station.pumps[station.rotation[0] - 1]
    pump.ragged = True
    effects.ragged = pump


def _begin_transmitter_stuck(station: PumpStation, effects: ScenarioEffects) -> None:
    station.transmitter.stuck = True


def _begin_transmitter_fault(station: PumpStation, effects: ScenarioEffects) -> None:
    station.transmitter.failed = True


_BEGIN: dict[ProcessScenario, Callable[[PumpStation, ScenarioEffects], None]] = {
    ProcessScenario.STORM: _begin_storm,
    ProcessScenario.PUMP_FAULT: _begin_pump_fault,
    ProcessScenario.POWER_FAILURE: _begin_power_failure,
    ProcessScenario.GENERATOR_FAIL: _begin_generator_fail,
    ProcessScenario.RAGGING: _begin_ragging,
    ProcessScenario.TRANSMITTER_STUCK: _begin_transmitter_stuck,
    ProcessScenario.TRANSMITTER_FAULT: _begin_transmitter_fault,
}
