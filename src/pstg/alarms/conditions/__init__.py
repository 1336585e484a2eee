"""One module per rule kind: how samples (and time) become an alarm's raw condition.

    base.py             Condition (what every kind has), known_number, Timers
    limit.py            high_high, high, low, low_low: a limit with deadband hysteresis
    discrete.py         discrete: the tag equals a value
    bad_quality.py      bad_quality: the tag's reads are bad
    comm_loss.py        comm_loss: no good read from a device for a timeout
    fail_to_start.py    fail_to_start: commanded without running feedback for a timeout
    starts_per_hour.py  starts_per_hour: too many starts in a sliding hour
    command_failed.py   command_failed: an operated command the plant did not follow
    notification_failed.py  notification_failed: a notification that was not delivered

`CONDITIONS` maps each kind to its class. A new kind is a new module here, a line in
`CONDITIONS`, and the kind in the config (`pstg.config.models.AlarmKind` and `_KIND_KEYS`).
"""

from __future__ import annotations

from typing import Final

from pstg.alarms.conditions.bad_quality import BadQualityCondition
from pstg.alarms.conditions.base import COMMAND_STATES, CommandHandler, Condition, Timers
from pstg.alarms.conditions.comm_loss import CommLossCondition
from pstg.alarms.conditions.command_failed import CommandFailedCondition
from pstg.alarms.conditions.discrete import DiscreteCondition
from pstg.alarms.conditions.fail_to_start import FailToStartCondition
from pstg.alarms.conditions.limit import LimitCondition
from pstg.alarms.conditions.notification_failed import NotificationFailedCondition
from pstg.alarms.conditions.starts_per_hour import StartsPerHourCondition
from pstg.alarms.delays import Delays
from pstg.alarms.model import Alarm
from pstg.alarms.rules import AlarmRule
from pstg.config.models import AlarmKind

CONDITIONS: Final[dict[AlarmKind, type[Condition]]] = {
    "high_high": LimitCondition,
    "high": LimitCondition,
    "low": LimitCondition,
    "low_low": LimitCondition,
    "discrete": DiscreteCondition,
    "bad_quality": BadQualityCondition,
    "comm_loss": CommLossCondition,
    "fail_to_start": FailToStartCondition,
    "starts_per_hour": StartsPerHourCondition,
    "command_failed": CommandFailedCondition,
    "notification_failed": NotificationFailedCondition,
}
"""The condition class of each rule kind. `AlarmEngine.tick` visits the armed conditions in
this order of kinds (comm_loss, fail_to_start, starts_per_hour, then command_failed)."""


def condition_for(rule: AlarmRule, delays: Delays, timers: Timers) -> Condition:
    """A new condition, with its alarm in the normal state, for `rule`."""
    return CONDITIONS[rule.kind](Alarm(rule.id, rule), rule, delays, timers)


def new_timers() -> Timers:
    """Timers for the conditions of every kind, in registry order."""
    return Timers(dict.fromkeys(CONDITIONS.values()))


__all__ = [
    "COMMAND_STATES",
    "CONDITIONS",
    "CommandHandler",
    "Condition",
    "NotificationFailedCondition",
    "Timers",
    "condition_for",
    "new_timers",
]
