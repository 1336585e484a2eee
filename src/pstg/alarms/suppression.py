"""`suppress_when`: a condition on another tag that masks an alarm by design.

A pump's low-flow alarm means nothing while the pump is stopped; `suppress_when: {tag:
pump1.running, value: 0}` suppresses it then. Any rule kind may have one. The suppression
condition is a lifecycle trigger of its own (suppress / unsuppress), not part of the alarm's
condition: the alarm keeps following its condition while suppressed.

When the suppression lifts, the alarm's condition counts from that moment (`Delays.restart`):
it must hold for the alarm's `on_delay` before the alarm is raised. Otherwise a condition that
held all the while the pump stood (no flow) would be raised the moment the pump starts, before
the flow has had its on-delay to come up, and the alarm would chatter at every start.
"""

from __future__ import annotations

from pstg.alarms.delays import Delayed, Delays
from pstg.alarms.lifecycle import Lifecycle
from pstg.alarms.model import Transition
from pstg.alarms.states import Trigger
from pstg.model import Quality, Sample


class Suppression:
    """The suppression input of one alarm; `on_value` takes the samples of its tag."""

    __slots__ = ("_condition", "_delays", "_lifecycle", "_value")

    def __init__(
        self, condition: Delayed, value: float | None, lifecycle: Lifecycle, delays: Delays
    ) -> None:
        self._condition = condition
        self._value = value
        self._lifecycle = lifecycle
        self._delays = delays

    def on_value(self, sample: Sample, out: list[Transition]) -> None:
        """The suppression tag's value: suppress or release the alarm when it changes."""
        value = sample.value
        if sample.quality is Quality.BAD or value is None or isinstance(value, str):
            return  # unknown: suppression stays as it is
        suppressed = value == self._value
        alarm = self._condition.alarm
        if suppressed == alarm.suppressed:
            return
        alarm.suppressed = suppressed
        if not suppressed:
            # The condition counts from now: it must hold its on_delay before it is raised.
            self._delays.restart(self._condition, sample.ts, out)
        trigger = Trigger.SUPPRESS if suppressed else Trigger.UNSUPPRESS
        self._lifecycle.step(alarm, trigger, sample.ts, out)
