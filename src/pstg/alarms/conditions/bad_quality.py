"""bad_quality: the tag's reads are bad (a failed transmitter, a Modbus exception).

The only kind for which a bad sample is information rather than an unknown value. The
alarm's value is the bad quality's reason while bad, the tag's value once good again.
"""

from __future__ import annotations

from pstg.alarms.conditions.base import Condition
from pstg.alarms.model import Transition
from pstg.model import Quality, Sample


class BadQualityCondition(Condition):
    """The condition of a bad_quality alarm: the last sample of the tag is bad."""

    __slots__ = ()

    def on_value(self, sample: Sample, out: list[Transition]) -> None:
        bad = sample.quality is Quality.BAD
        self.alarm.value = sample.reason.value if bad else sample.value
        self._evaluate(bad, sample.ts, sample.ts, out)
