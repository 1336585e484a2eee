"""out_of_band: a value outside a band, `low` to `high` (a motor current while it runs).

The condition is `value <= low or value >= high`; once active it clears only when the value is
back inside by the deadband (`low + deadband < value < high - deadband`), so a value at an
edge does not chatter. Either end may be read from a tag (`high: {tag: ...}`), held at its
last good value while the tag reads bad, as a limit alarm's limit is (`limit.py`). A bad
sample, or an end not yet known, leaves the condition as it was and drops a pending change.

"While running" is a `suppress_when` on the running feedback: after a start, the band is
watched only once the condition has held for the on-delay (see `suppression.py`), so the
inrush of a start is not an alarm.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pstg.alarms.conditions.base import Condition, Timers, known_number
from pstg.alarms.conditions.limit import HeldLimit
from pstg.alarms.delays import Delays
from pstg.alarms.index import Handler
from pstg.alarms.model import Alarm, Transition
from pstg.alarms.rules import AlarmRule, LimitSpec
from pstg.model import Sample

_NO_LIMIT = LimitSpec(None)


class OutOfBandCondition(Condition):
    """The condition of an out_of_band alarm; see the module docstring."""

    __slots__ = ("high", "last", "low")

    def __init__(self, alarm: Alarm, rule: AlarmRule, delays: Delays, timers: Timers) -> None:
        super().__init__(alarm, rule, delays, timers)
        self.low = HeldLimit(rule.low or _NO_LIMIT)
        self.high = HeldLimit(rule.high or _NO_LIMIT)
        self.last: float | None = None

    def inputs(self) -> list[tuple[str, Handler]]:
        inputs = super().inputs()
        for end in (self.low, self.high):
            if end.tag is not None:
                inputs.append((end.tag, self._end_handler(end)))
        return inputs

    def _end_handler(self, end: HeldLimit) -> Handler:
        def on_end(sample: Sample, out: list[Transition]) -> None:
            if end.update(sample) and self.last is not None:
                self._decide(self.last, sample.ts, out)

        return on_end

    def on_value(self, sample: Sample, out: list[Transition]) -> None:
        value = known_number(sample)
        self.last = value
        if value is None:
            self._forget_change()
            return
        self.alarm.value = value
        self._decide(value, sample.ts, out)

    def _decide(self, value: float, ts: datetime, out: list[Transition]) -> None:
        low, high = self.low.value, self.high.value
        if low is None or high is None:
            return  # an end not read yet: nothing to compare with
        inside = self.rule.deadband if self.alarm.active else 0.0
        raw = value <= low + inside or value >= high - inside
        self._evaluate(raw, ts, ts, out)

    def save(self) -> dict[str, Any]:
        ends = {"low": self.low, "high": self.high}
        return {f"{key}_limit": end.value for key, end in ends.items() if end.tag is not None}

    def restore(self, entry: dict[str, Any], now: datetime) -> None:
        self.low.restore(entry.get("low_limit"))
        self.high.restore(entry.get("high_limit"))
        super().restore(entry, now)
