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
    group.py            all/any of comparisons in three-valued logic (compound, frozen's while)
    compound.py         compound: all/any of comparisons on several tags
    rate_of_change.py   rate_of_change: rising (or falling) faster than limit per `per`
    frozen.py           frozen: a value stuck within a band for a timeout while a condition holds
    run_too_long.py     run_too_long: running without a stop for longer than a timeout
    out_of_band.py      out_of_band: a value outside low..high (each a number or a tag)

A limit alarm's limit, and an out_of_band alarm's ends, may be read from a tag (`limit.py`'s
`HeldLimit`); `pstg.alarms.rules` adds the `<tag>.limit_source` alarm for such a tag.

`CONDITIONS` maps each kind to its class. A new kind is a new module here, a line in
`CONDITIONS`, and the kind in the config (`pstg.config.models.AlarmKind` and `_KIND_KEYS`).
"""

from __future__ import annotations

from typing import Final

from pstg.alarms.conditions.bad_quality import BadQualityCondition
from pstg.alarms.conditions.base import COMMAND_STATES, CommandHandler, Condition, Timers
from pstg.alarms.conditions.comm_loss import CommLossCondition
from pstg.alarms.conditions.command_failed import CommandFailedCondition
from pstg.alarms.conditions.compound import CompoundCondition
from pstg.alarms.conditions.discrete import DiscreteCondition
from pstg.alarms.conditions.fail_to_start import FailToStartCondition
from pstg.alarms.conditions.frozen import FrozenCondition
from pstg.alarms.conditions.limit import LimitCondition
from pstg.alarms.conditions.notification_failed import NotificationFailedCondition
from pstg.alarms.conditions.out_of_band import OutOfBandCondition
from pstg.alarms.conditions.rate_of_change import RateOfChangeCondition
from pstg.alarms.conditions.run_too_long import RunTooLongCondition
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
    "compound": CompoundCondition,
    "rate_of_change": RateOfChangeCondition,
    "frozen": FrozenCondition,
    "run_too_long": RunTooLongCondition,
    "out_of_band": OutOfBandCondition,
}
"""The condition class of each rule kind. `AlarmEngine.tick` visits the armed conditions in
this order of kinds (comm_loss, fail_to_start, starts_per_hour, command_failed, frozen, then
run_too_long)."""


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
