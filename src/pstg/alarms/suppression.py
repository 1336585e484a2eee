"""`suppress_when`: a condition on another tag that masks an alarm by design.

A pump's low-flow alarm means nothing while the pump is stopped; `suppress_when: {tag:
pump1.running, value: 0}` suppresses it then. Any rule kind may have one. The suppression
condition is a lifecycle trigger of its own (suppress / unsuppress), not part of the alarm's
condition: the alarm keeps following its condition while suppressed.
"""

from __future__ import annotations

from pstg.alarms.lifecycle import Lifecycle
from pstg.alarms.model import Alarm, Transition
from pstg.alarms.states import Trigger
from pstg.model import Quality, Sample


class Suppression:
    """The suppression input of one alarm; `on_value` takes the samples of its tag."""

    __slots__ = ("_alarm", "_lifecycle", "_value")

    def __init__(self, alarm: Alarm, value: float | None, lifecycle: Lifecycle) -> None:
        self._alarm = alarm
        self._value = value
        self._lifecycle = lifecycle

    def on_value(self, sample: Sample, out: list[Transition]) -> None:
        """The suppression tag's value: suppress or release the alarm when it changes."""
        value = sample.value
        if sample.quality is Quality.BAD or value is None or isinstance(value, str):
            return  # unknown: suppression stays as it is
        suppressed = value == self._value
        alarm = self._alarm
        if suppressed == alarm.suppressed:
            return
        alarm.suppressed = suppressed
        trigger = Trigger.SUPPRESS if suppressed else Trigger.UNSUPPRESS
        self._lifecycle.step(alarm, trigger, sample.ts, out)
