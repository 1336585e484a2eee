"""command_failed: an operated command whose value the plant did not follow.

The command service reports the outcome of every operated command to the engine
(`AlarmEngine.command_result`), which hands it to the command_failed conditions of that tag:

- `not_confirmed` (the read-back did not reach the value in time) and `failed` (the link was
  down, so the plant's state is unknown) make the condition true; the alarm's value is the
  value the read-back had to reach (the value commanded, or `readback.equals`);
- `confirmed` makes it false;
- `device_refused` changes nothing: nothing was written and the operator was told at once.

While the condition is true the read-back tag (`command.readback.tag`, else the commanded tag
itself) is watched: a known sample within `command.readback.tolerance` of the expected value
makes it false, since the plant followed late. A bad sample changes nothing: what raised the
alarm is the command's outcome, not a value, so an unknown value neither confirms nor drops it.

The expected value and the condition survive a restart (`save`); a change that was waiting
for its delay starts the delay over at the first tick, since no sample would ever re-raise it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pstg.alarms.conditions.base import CommandHandler, Condition, Timers, known_number
from pstg.alarms.delays import Delays
from pstg.alarms.index import Handler
from pstg.alarms.model import Alarm, Transition
from pstg.alarms.rules import AlarmRule
from pstg.model import Sample

_DECISIVE = frozenset({"confirmed", "not_confirmed", "failed"})
"""The command states that say whether the plant followed (or that nobody knows)."""


class CommandFailedCondition(Condition):
    """The condition of a command_failed alarm; see the module docstring."""

    __slots__ = ("expected",)

    def __init__(self, alarm: Alarm, rule: AlarmRule, delays: Delays, timers: Timers) -> None:
        super().__init__(alarm, rule, delays, timers)
        self.expected: float | None = None
        """The value the read-back had to reach, while the condition is true; else None."""

    def inputs(self) -> list[tuple[str, Handler]]:
        readback = self.rule.readback or self.rule.tag
        return [(readback, self.on_value)] if readback is not None else []

    def commands(self) -> list[tuple[str, CommandHandler]]:
        return [(self.rule.tag, self.on_command)] if self.rule.tag is not None else []

    def on_command(
        self, state: str, value: float | None, ts: datetime, out: list[Transition]
    ) -> None:
        """The outcome of a command operated on the rule's tag (one of `COMMAND_STATES`,
        checked by the engine); `value` is what the read-back had to reach."""
        if state not in _DECISIVE:
            return  # device_refused: nothing was written, the operator knows already
        expected = float(value) if value is not None else None
        if expected is not None:
            self.alarm.value = expected
        if state == "confirmed":
            self.expected = None
            self._evaluate(False, ts, ts, out)
        else:
            # A failure without a value can still be cleared by a later confirmed command.
            self.expected = expected
            self._evaluate(True, ts, ts, out)

    def on_value(self, sample: Sample, out: list[Transition]) -> None:
        """A sample of the read-back tag; only looked at while the condition is true."""
        if not self.raw or self.expected is None:
            return
        value = known_number(sample)
        if value is None:
            return  # unknown: the plant may or may not have followed
        followed = abs(value - self.expected) <= self.rule.tolerance
        if followed:
            self.expected = None
        # Not followed: the condition holds still, which also confirms a restored alarm.
        self._evaluate(not followed, sample.ts, sample.ts, out)

    def tick(self, now: datetime, out: list[Transition]) -> None:
        """Armed only after a restore with a change waiting: start its delay over."""
        self._timers.disarm(self)
        self._delays.settle(self, now, out)

    def save(self) -> dict[str, Any]:
        return {"expected": self.expected, "raw": self.raw}

    def restore(self, entry: dict[str, Any], now: datetime) -> None:
        expected = entry.get("expected")
        if expected is not None and (
            isinstance(expected, bool) or not isinstance(expected, int | float)
        ):
            raise ValueError(f"expected {expected!r} is not a number")
        raw = entry.get("raw", False)
        if not isinstance(raw, bool):
            raise ValueError(f"raw {raw!r} is not true or false")
        super().restore(entry, now)
        self.expected = float(expected) if expected is not None else None
        if raw != self.alarm.active:
            # A change was waiting for its delay; nothing but the command service would
            # bring it back, so the first tick starts the delay over from now.
            self.raw = raw
            self.raw_since = now
            self._timers.arm(self)
