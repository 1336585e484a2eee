"""Report by exception: the historian's "store on change" filter.

A tag polled every second that sits at the same level for an hour would otherwise cost 3600
rows that say nothing. Each tag's sample is compared with the last *stored* sample of that tag
(not the last polled one, so a slow drift smaller than the deadband per poll still gets stored
once it adds up) and is stored when:

- it is the first sample of the tag (or the first since `forget`);
- its quality or reason differs, so the start and the end of a bad period are both visible;
- its value changed: by more than the tag's deadband for numbers (deadband None or 0: any
  change), any change for text; a sample without a value changes nothing by its value;
- the heartbeat has passed since the last stored sample, so a flat line still shows the
  tag was alive and charts have a point within every heartbeat.

A sample not newer than the last stored one (the device clock went backwards, or a duplicate)
is never stored: the database keeps one row per tag and timestamp, in order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from pstg.model import Quality, QualityReason, Sample


class _LastStored:
    """What admit() compares with: the last stored sample of one tag, and its deadline."""

    __slots__ = ("deadband", "due", "quality", "reason", "ts", "value")

    def __init__(self, deadband: float) -> None:
        self.deadband = deadband  # 0.0 means any change
        self.ts: datetime
        self.due: datetime  # ts + heartbeat: from then on the next sample is stored anyway
        self.value: float | str | None
        self.quality: Quality
        self.reason: QualityReason


class ReportByException:
    """Decides, sample by sample, which ones must be stored; keeps one small state per tag.

    `deadbands` maps tag names to their absolute deadband in engineering units; a tag not in
    it, or with None or 0, stores any change of value. Not thread-safe: one instance belongs to
    one writer.
    """

    def __init__(self, *, heartbeat: float, deadbands: Mapping[str, float | None]) -> None:
        if not (heartbeat > 0 and math.isfinite(heartbeat)):
            raise ValueError(f"heartbeat must be a finite number of seconds > 0, not {heartbeat}")
        for tag, deadband in deadbands.items():
            if deadband is not None and not (deadband >= 0 and math.isfinite(deadband)):
                raise ValueError(f"deadband of {tag!r} must be a finite number >= 0")
        self.heartbeat = heartbeat
        self._heartbeat = timedelta(seconds=heartbeat)
        self._deadbands = {tag: float(deadband or 0.0) for tag, deadband in deadbands.items()}
        self._last: dict[str, _LastStored] = {}
        self.admitted = 0
        self.suppressed = 0

    def admit(self, sample: Sample) -> bool:
        """True when `sample` must be stored; it then becomes the tag's last stored sample."""
        # The hot path: runs for every polled sample, so it compares datetimes directly (cheap
        # for the shared UTC tzinfo) and checks the common "nothing changed" case with a few
        # comparisons. Quality and reason are enum members, compared by identity.
        last = self._last.get(sample.tag)
        if last is not None:
            ts = sample.ts
            if ts <= last.ts:
                self.suppressed += 1
                return False
            if ts < last.due and sample.quality is last.quality and sample.reason is last.reason:
                value = sample.value
                previous = last.value
                if value is None or value == previous:
                    self.suppressed += 1
                    return False
                deadband = last.deadband
                if (
                    deadband
                    and previous is not None
                    and not isinstance(value, str)
                    and not isinstance(previous, str)
                    and abs(value - previous) <= deadband
                ):
                    self.suppressed += 1
                    return False
        else:
            last = self._last[sample.tag] = _LastStored(self._deadbands.get(sample.tag, 0.0))
        self._store(last, sample)
        self.admitted += 1
        return True

    def filter(self, samples: Iterable[Sample]) -> list[Sample]:
        """The samples that must be stored, in their order."""
        admit = self.admit
        return [sample for sample in samples if admit(sample)]

    def forget(self, tag: str) -> None:
        """Drop the tag's state: its next sample is stored as if it were the first."""
        self._last.pop(tag, None)

    def _store(self, last: _LastStored, sample: Sample) -> None:
        last.ts = sample.ts
        try:
            last.due = sample.ts + self._heartbeat
        except OverflowError:  # a heartbeat reaching past year 9999: never due
            last.due = datetime.max.replace(tzinfo=sample.ts.tzinfo)
        last.value = sample.value
        last.quality = sample.quality
        last.reason = sample.reason
