"""high_high, high, low, low_low: a value past a limit, with the deadband as hysteresis.

An alarm activates at the limit and clears only past limit ∓ deadband (`AlarmRule.
limit_condition`), so a value hovering at the limit does not chatter. A bad sample leaves the
condition as it was and drops a change waiting for its delay.

The limit is a number, or read from a tag (`limit: {tag: setpoint.high_level}`), so the
alarm follows the PLC's set point. A new limit re-evaluates the last known value at once. A
bad read of the limit tag holds the last good limit (its `<tag>.limit_source` alarm says so);
before the first good read the limit is unknown and the alarm stays as it is. The last good
limit survives a restart (`save`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pstg.alarms.conditions.base import Condition, Timers, known_number
from pstg.alarms.delays import Delays
from pstg.alarms.index import Handler
from pstg.alarms.model import Alarm, Transition
from pstg.alarms.rules import AlarmRule, LimitSpec
from pstg.model import Sample


class HeldLimit:
    """A limit that is a number, or the last good value of its tag."""

    __slots__ = ("tag", "value")

    def __init__(self, spec: LimitSpec) -> None:
        self.tag = spec.tag
        self.value = spec.value
        """The limit in force; None until the tag's first good read."""

    def update(self, sample: Sample) -> bool:
        """A sample of the limit tag; True if the limit changed (a bad one holds it)."""
        value = known_number(sample)
        if value is None or value == self.value:
            return False
        self.value = value
        return True

    def restore(self, value: object) -> None:
        """The limit saved before a restart (a tag's limit only; a number stays the config's)."""
        if self.tag is None or value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"limit {value!r} is not a number")
        self.value = float(value)


class LimitCondition(Condition):
    """The condition of a limit alarm (high_high, high, low, low_low)."""

    __slots__ = ("last", "limit")

    def __init__(self, alarm: Alarm, rule: AlarmRule, delays: Delays, timers: Timers) -> None:
        super().__init__(alarm, rule, delays, timers)
        self.limit = HeldLimit(LimitSpec(rule.limit, rule.limit_tag))
        self.last: float | None = None
        """The last known value, re-evaluated when the limit changes; None while unknown."""

    def inputs(self) -> list[tuple[str, Handler]]:
        inputs = super().inputs()
        if self.limit.tag is not None:
            inputs.append((self.limit.tag, self.on_limit))
        return inputs

    def on_value(self, sample: Sample, out: list[Transition]) -> None:
        value = known_number(sample)
        self.last = value
        if value is None:
            self._forget_change()
            return
        self.alarm.value = value
        self._decide(value, sample, out)

    def on_limit(self, sample: Sample, out: list[Transition]) -> None:
        """A sample of the limit tag: a new limit applies to the last known value now."""
        if self.limit.update(sample) and self.last is not None:
            self._decide(self.last, sample, out)

    def _decide(self, value: float, sample: Sample, out: list[Transition]) -> None:
        limit = self.limit.value
        if limit is None:
            return  # no good read of the limit tag yet: nothing to compare with
        # The deadband widens the condition of an active alarm only: it activates at the
        # limit and clears past limit ∓ deadband.
        raw = self.rule.limit_condition(value, self.alarm.active, limit)
        self._evaluate(raw, sample.ts, sample.ts, out)

    def save(self) -> dict[str, Any]:
        return {"limit": self.limit.value} if self.limit.tag is not None else {}

    def restore(self, entry: dict[str, Any], now: datetime) -> None:
        self.limit.restore(entry.get("limit"))
        super().restore(entry, now)
