"""The process model of a wastewater lift station: wet well, pumps, level control and power.

Plain Python, no Modbus, deterministic for a seed, advanced in fixed steps of simulated time.

    station.py      PumpStation: the parts on one clock, operator commands, what it shows
    clock.py        the stepping clock: start, elapsed time, steps of at most a second
    design.py       StationDesign (the fixed plant), SetPoints (what the operator adjusts)
                    and the range each set point can take
    wet_well.py     the level from the water balance; the level transmitter
    pump.py         Hoa, Pump: selector, starter, protection, motor
    hydraulics.py   pump and system curves, duty point, motor maths (pure functions)
    control.py      the PLC: lead/lag/standby, alternation, Hand/remote, dry-run cut-out,
                    starts limit
    power.py        mains and the standby generator
    inflow.py       the outside world: sewage inflow (diurnal, noise, storms), door visits
    scenarios.py    ProcessScenario: what each scenario does to the parts, and its undoing

The names below are the model's front door: `from pstg.simulator.process import PumpStation`.
"""

from pstg.simulator.process.clock import DEFAULT_START
from pstg.simulator.process.design import (
    LEVEL_ORDER,
    SetPoints,
    StationDesign,
    setpoint_limits,
)
from pstg.simulator.process.pump import Hoa, Pump
from pstg.simulator.process.scenarios import ProcessScenario
from pstg.simulator.process.station import PumpStation

__all__ = [
    "DEFAULT_START",
    "LEVEL_ORDER",
    "Hoa",
    "ProcessScenario",
    "Pump",
    "PumpStation",
    "SetPoints",
    "StationDesign",
    "setpoint_limits",
]
