"""Report by exception: the historian's "store on change" filter, on whole columns.

A tag polled every second that sits at the same level for an hour would otherwise cost 3600
rows that say nothing. Each tag's reading is compared with the last *stored* reading of that
tag (not the last polled one, so a slow drift smaller than the deadband per poll still gets
stored once it adds up) and is stored when:

- it is the first reading of the tag;
- its quality or reason differs, so the start and the end of a bad period are both visible;
- its value changed: by more than the tag's deadband for numbers (deadband 0: any change),
  any change for text; a reading without a value changes nothing by its value;
- the heartbeat has passed since the last stored reading, so a flat line still shows the
  tag was alive and charts have a point within every heartbeat.

A reading not newer than the last stored one (the device clock went backwards, or a duplicate)
is never stored: the database keeps one row per tag and timestamp, in order.

State is a handful of NumPy columns indexed by tag (about 30 bytes per tag); a batch is decided
with a dozen vector operations whatever its size. A batch must hold each tag at most once, as
one poll cycle of one device does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pstg.batch import Batch, TextSample

_NEVER = np.iinfo(np.int64).min
_NO_QUALITY = 255  # no reading stored yet


@dataclass(slots=True)
class _LastText:
    ts: int
    due: int
    text: str | None
    quality: int
    reason: int


class ReportByException:
    """Decides which readings are stored; one instance per stream of batches.

    `deadbands[i]` is tag i's absolute deadband in engineering units (0: any change);
    `heartbeat` is in seconds.
    """

    def __init__(self, *, heartbeat: float, deadbands: npt.NDArray[np.float64]) -> None:
        if not (heartbeat > 0 and math.isfinite(heartbeat)):
            raise ValueError(f"heartbeat must be a finite number of seconds > 0, not {heartbeat}")
        if len(deadbands) and not (np.all(deadbands >= 0) and np.all(np.isfinite(deadbands))):
            raise ValueError("every deadband must be a finite number >= 0")
        count = len(deadbands)
        self.heartbeat = heartbeat
        self._heartbeat_us = min(round(heartbeat * 1_000_000), 2**62)
        self._deadband = deadbands.astype(np.float64, copy=True)
        self._value = np.full(count, np.nan, dtype=np.float64)
        self._ts = np.full(count, _NEVER, dtype=np.int64)
        self._due = np.full(count, _NEVER, dtype=np.int64)
        self._quality = np.full(count, _NO_QUALITY, dtype=np.uint8)
        self._reason = np.zeros(count, dtype=np.uint8)
        self._texts: dict[int, _LastText] = {}
        self.admitted = 0
        self.suppressed = 0

    def changes(self, batch: Batch) -> Batch:
        """The rows of `batch` to store, in their order; they become the tags' last stored."""
        tags = batch.tags
        if len(tags):
            store = self._decide(batch)
            kept = batch.select(store) if not store.all() else batch
            self._remember(kept)
        else:
            kept = batch
        texts = tuple(text for text in batch.texts if self._admit_text(text))
        stored = len(kept.tags) + len(texts)
        self.admitted += stored
        self.suppressed += len(batch) - stored
        return kept.with_texts(texts) if texts != kept.texts else kept

    def forget(self, index: int) -> None:
        """Drop tag `index`'s state: its next reading is stored as if it were the first."""
        self._quality[index] = _NO_QUALITY
        self._ts[index] = _NEVER
        self._due[index] = _NEVER
        self._value[index] = np.nan
        self._texts.pop(index, None)

    def _decide(self, batch: Batch) -> npt.NDArray[np.bool_]:
        tags, ts, values = batch.tags, batch.ts, batch.values
        last_quality = self._quality[tags]
        first = last_quality == _NO_QUALITY
        same_quality = (batch.quality == last_quality) & (batch.reason == self._reason[tags])
        previous = self._value[tags]
        deadband = self._deadband[tags]
        with np.errstate(invalid="ignore"):
            # NaN (no value) compares unequal to everything: a missing value changes nothing
            # by itself, a value after a missing one is a change.
            differs = ~np.isnan(values) & (values != previous)
            within = (deadband > 0) & (np.abs(values - previous) <= deadband)
        changed = differs & ~within
        newer = ts > self._ts[tags]
        due = ts >= self._due[tags]
        result: npt.NDArray[np.bool_] = first | (newer & (due | ~same_quality | changed))
        return result

    def _remember(self, kept: Batch) -> None:
        tags = kept.tags
        self._value[tags] = kept.values
        self._ts[tags] = kept.ts
        self._due[tags] = kept.ts + self._heartbeat_us
        self._quality[tags] = kept.quality
        self._reason[tags] = kept.reason

    def _admit_text(self, sample: TextSample) -> bool:
        last = self._texts.get(sample.tag)
        if last is not None:
            if sample.ts <= last.ts:
                return False
            if (
                sample.ts < last.due
                and sample.quality == last.quality
                and sample.reason == last.reason
                and (sample.text is None or sample.text == last.text)
            ):
                return False
        self._texts[sample.tag] = _LastText(
            sample.ts, sample.ts + self._heartbeat_us, sample.text, sample.quality, sample.reason
        )
        return True
