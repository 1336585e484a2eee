"""Alarms: rules from the config, the ISA-18.2 lifecycle, the engine and its KPIs.

    rules.py        AlarmConfig -> AlarmRule (ids, delays, each kind's condition)
    states.py       the lifecycle as a pure transition table
    engine.py       AlarmEngine: samples and time in, Transitions out; wires the parts below
      index.py        tag -> the handlers of the rules that read it
      conditions/     one module per rule kind: samples and time -> raw condition
      delays.py       raw condition -> Alarm.active (on_delay, off_delay)
      suppression.py  suppress_when: another tag masks the alarm
      lifecycle.py    triggers -> state; the operator's actions; shelve expiry
      snapshot.py     an alarm's fields for a restart
      model.py        Alarm, Transition;  errors.py: AlarmError and its subclasses
    kpi.py          EEMUA 191 figures from a list of transitions
    service.py      the engine in the gateway: journal, persisted states, operator actions
    tables.py       the alarm tables

docs/alarms.md describes the rules, the lifecycle, shelving, suppression and the figures.
"""

from pstg.alarms.engine import AlarmEngine
from pstg.alarms.errors import ActionRefused, AlarmError, SnapshotError, UnknownAlarm
from pstg.alarms.kpi import Kpis, alarm_kpis
from pstg.alarms.model import Alarm, Transition
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
