"""frozen: a value stuck within `band` for `timeout` while a condition holds.

A level transmitter that stopped following the well reads the same value on and on, with no
error to show for it; the tell is a level that does not move while a pump runs. The rule's
tag is the value; `while` (an `all`/`any` group, as a compound alarm's) says when a still
value means something, e.g. `while: {any: [{tag: pump1.running, equals: 1}, ...]}`; without
it, always.

The value is *still* since the first sample of the current window: a sample that takes the
window's spread (largest minus smallest) past `band` starts a new window there and makes the
condition false — the value moves, the transmitter is alive. The condition becomes true once
the value has been still, and the `while` condition true, for `timeout` without a break. A
`while` condition that goes false or unknown stops the clock but clears nothing: a stuck
transmitter stays stuck when the pumps stop, so only a moving value clears the alarm.

A bad sample of the value is no value: the window and the clock start again with the next good
one, and a pending change is dropped. Timers start afresh after a restart. The alarm's value is
the last value seen.
"""

from __future__ import annotations

from datetime import datetime

from pstg.alarms.conditions.base import Condition, Timers, known_number
from pstg.alarms.conditions.group import GroupState
from pstg.alarms.delays import Delays
from pstg.alarms.index import Handler
from pstg.alarms.model import Alarm, Transition
from pstg.alarms.rules import AlarmRule
from pstg.model import Sample


class FrozenCondition(Condition):
    """The condition of a frozen alarm; see the module docstring."""

    __slots__ = ("high", "low", "still_since", "watch", "while_since")

    def __init__(self, alarm: Alarm, rule: AlarmRule, delays: Delays, timers: Timers) -> None:
        super().__init__(alarm, rule, delays, timers)
        self.watch = GroupState(rule.group) if rule.group is not None else None
        self.still_since: datetime | None = None
        """The first sample of the current window; None without a good value."""
        self.low = self.high = 0.0
        """The smallest and largest value of the window."""
        self.while_since: datetime | None = None
        """Since when the `while` condition holds; None while it is false or unknown."""

    def inputs(self) -> list[tuple[str, Handler]]:
        inputs = super().inputs()
        if self.watch is not None:
            inputs += self.watch.inputs(self.on_while)
        return inputs

    def on_value(self, sample: Sample, out: list[Transition]) -> None:
        value = known_number(sample)
        ts = sample.ts
        if value is None:
            self.still_since = None
            self._timers.disarm(self)
            self._forget_change()
            return
        self.alarm.value = value
        if self.still_since is None:
            self._new_window(value, ts)
        else:
            low, high = min(self.low, value), max(self.high, value)
            if high - low > self.rule.band:
                self._new_window(value, ts)
                self._evaluate(False, ts, ts, out)  # it moves: the transmitter is alive
            else:
                self.low, self.high = low, high
        self._arm(ts, out)

    def on_while(self, ts: datetime, out: list[Transition]) -> None:
        """A sample of a `while` term's tag."""
        assert self.watch is not None
        if self.watch.value is True:
            if self.while_since is None:
                self.while_since = ts
        else:
            self.while_since = None
        self._arm(ts, out)

    def _new_window(self, value: float, ts: datetime) -> None:
        self.still_since = ts
        self.low = self.high = value

    def _clock_since(self) -> datetime | None:
        """Since when the value is still *and* the `while` condition holds; None: no clock."""
        still = self.still_since
        if still is None:
            return None
        if self.watch is None:
            return still
        holds = self.while_since
        return None if holds is None else max(still, holds)

    def _arm(self, now: datetime, out: list[Transition]) -> None:
        if self._clock_since() is None:
            self._timers.disarm(self)
            return
        self._timers.arm(self)
        self.tick(now, out)

    def tick(self, now: datetime, out: list[Transition]) -> None:
        since = self._clock_since()
        if since is None:
            self._timers.disarm(self)
            return
        if now - since >= self.rule.timeout:
            self._timers.disarm(self)  # until the value moves or the clock starts again
            self._evaluate(True, since + self.rule.timeout, now, out)
