"""The live view: the latest reading of every tag, as the poll loops delivered it.

The API answers "what is the level now" from here, not from a database scan. It is fed every
reading (before report by exception, so it is always the freshest) and warmed at start from
the last stored samples. State is a few NumPy columns indexed by tag number; a batch updates
them with one vectorized assignment. `seq` counts updates, so a stream to browsers can ask
what changed since the last push, and `changed_after` lets the stream (and a command waiting
for its read-back) wait for the next batch instead of polling the view.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pstg.batch import Batch, TextSample
from pstg.config.tag_table import TagTable
from pstg.model import QUALITY_OF_CODE, REASON_OF_CODE, Event, Sample
from pstg.sinks.base import Feed
from pstg.times import from_micros

_NEVER = np.iinfo(np.int64).min


@dataclass(frozen=True, slots=True)
class LiveRows:
    """Copies of the live view's columns for some tags, to encode later or in another thread
    while the view goes on changing. Numeric tags are in the columns, text tags in `texts`."""

    indexes: npt.NDArray[np.intp]
    """Tag numbers of the numeric tags with a reading, ascending."""
    ts: npt.NDArray[np.int64]
    """Microseconds since the epoch."""
    values: npt.NDArray[np.float64]
    """NaN where the value is unknown (bad quality)."""
    quality: npt.NDArray[np.uint8]
    reason: npt.NDArray[np.uint8]
    texts: dict[int, TextSample]
    """The latest sample of each text tag asked for that has one, by tag number."""

    def __len__(self) -> int:
        return len(self.indexes) + len(self.texts)


class LiveCache:
    """Latest value, time, quality and reason of each tag of `tags`."""

    name = "live"
    feed = Feed.READINGS

    def __init__(self, tags: TagTable) -> None:
        self.tags = tags
        count = len(tags)
        self._ts = np.full(count, _NEVER, dtype=np.int64)
        self._values = np.full(count, np.nan, dtype=np.float64)
        self._quality = np.zeros(count, dtype=np.uint8)
        self._reason = np.zeros(count, dtype=np.uint8)
        self._seq = np.zeros(count, dtype=np.int64)
        self._texts: dict[int, TextSample] = {}
        self.seq = 0
        """Number of batches taken so far; `changed_since` compares with it."""
        self._changed = asyncio.Event()

    # --- the pipeline's side ------------------------------------------------------------

    async def start(self) -> None:
        pass

    def submit(self, batch: Batch) -> None:
        """Take the rows of `batch` that are not older than what is held."""
        self.seq += 1
        tags = batch.tags
        if len(tags):
            ts = batch.ts
            newer = ts >= self._ts[tags]
            if not newer.all():
                tags, ts = tags[newer], ts[newer]
                batch = batch.select(newer)
            self._ts[tags] = ts
            self._values[tags] = batch.values
            self._quality[tags] = batch.quality
            self._reason[tags] = batch.reason
            self._seq[tags] = self.seq
        for text in batch.texts:
            held = self._texts.get(text.tag)
            if held is None or text.ts >= held.ts:
                self._texts[text.tag] = text
                self._seq[text.tag] = self.seq
        self._changed.set()

    def submit_events(self, events: Sequence[Event]) -> None:
        pass

    async def changed_after(self, seq: int) -> None:
        """Return once the view has taken a batch after `seq` (at once if it has)."""
        while self.seq == seq:
            self._changed.clear()
            await self._changed.wait()

    async def flush(self) -> None:
        pass

    async def close(self) -> None:
        pass

    def update(self, samples: Iterable[Sample]) -> None:
        """Take `samples` (tests, the start-up warm-up); tags not in the table are ignored."""
        index_of = self.tags.index_of
        known = [sample for sample in samples if sample.tag in index_of]
        text_tags = {index_of[s.tag] for s in known if self.tags.is_text[index_of[s.tag]]}
        for sample in known:
            self.submit(Batch.from_samples([sample], index_of, text_tags))

    # --- readers ------------------------------------------------------------------------

    def get(self, name: str) -> Sample | None:
        """The latest reading of tag `name`, or None before its first one."""
        index = self.tags.get(name)
        return None if index is None else self._sample(index)

    def snapshot(self) -> Mapping[str, Sample]:
        """The latest reading of every tag that has one, by name (a copy)."""
        names = self.tags.names
        held = np.flatnonzero(self._ts != _NEVER)
        result = {names[index]: self._sample_at(index) for index in held.tolist()}
        for index in self._texts:
            result[names[index]] = self._text_sample(index)
        return result

    def rows(self, indexes: npt.NDArray[np.intp] | None = None) -> LiveRows:
        """Copies of the columns of the tags `indexes` (every tag when None) that have a
        reading: vectorized, a few microseconds per thousand tags."""
        if indexes is None:
            indexes = np.arange(len(self.tags), dtype=np.intp)
        held = self._ts[indexes] != _NEVER
        texts: dict[int, TextSample] = {}
        if self._texts:
            wanted = np.zeros(len(self.tags), dtype=np.bool_)
            wanted[indexes] = True
            texts = {index: text for index, text in self._texts.items() if wanted[index]}
            # As `get`: a tag with a TextSample reads as that, whatever its columns hold.
            in_texts = np.zeros(len(self.tags), dtype=np.bool_)
            in_texts[list(texts)] = True
            held &= ~in_texts[indexes]
        kept = indexes[held]
        return LiveRows(
            kept, self._ts[kept], self._values[kept], self._quality[kept], self._reason[kept], texts
        )

    def changed_since(self, seq: int) -> npt.NDArray[np.intp]:
        """Indexes of the tags updated by batches after `seq` (see `seq`)."""
        return np.flatnonzero(self._seq > seq)

    def __len__(self) -> int:
        return int(np.count_nonzero(self._ts != _NEVER)) + len(self._texts)

    def _sample(self, index: int) -> Sample | None:
        if index in self._texts:
            return self._text_sample(index)
        if self._ts[index] == _NEVER:
            return None
        return self._sample_at(index)

    def _sample_at(self, index: int) -> Sample:
        value = float(self._values[index])
        return Sample(
            self.tags.names[index],
            from_micros(int(self._ts[index])),
            None if value != value else value,
            QUALITY_OF_CODE[int(self._quality[index])],
            REASON_OF_CODE[int(self._reason[index])],
        )

    def _text_sample(self, index: int) -> Sample:
        text = self._texts[index]
        return Sample(
            self.tags.names[index],
            from_micros(text.ts),
            text.text,
            QUALITY_OF_CODE[text.quality],
            REASON_OF_CODE[text.reason],
        )
