"""Alarms: rules from the config, the ISA-18.2 lifecycle, the engine and its KPIs.

    rules.py    AlarmConfig -> AlarmRule (ids, delays, each kind's condition)
    states.py   the lifecycle as a pure transition table
    engine.py   AlarmEngine: samples and time in, Transitions out; snapshot/restore
    kpi.py      EEMUA 191 figures from a list of transitions

docs/alarms.md describes the rules, the lifecycle, shelving, suppression and the figures.
"""

from pstg.alarms.engine import (
    ActionRefused,
    Alarm,
    AlarmEngine,
    AlarmError,
    SnapshotError,
    Transition,
    UnknownAlarm,
)
from pstg.alarms.kpi import Kpis, alarm_kpis
from pstg.alarms.rules import AlarmRule, RuleError, compile_rules, station_rules
from pstg.alarms.states import AlarmState, Trigger

__all__ = [
    "ActionRefused",
    "Alarm",
    "AlarmEngine",
    "AlarmError",
    "AlarmRule",
    "AlarmState",
    "Kpis",
    "RuleError",
    "SnapshotError",
    "Transition",
    "Trigger",
    "UnknownAlarm",
    "alarm_kpis",
    "compile_rules",
    "station_rules",
]
