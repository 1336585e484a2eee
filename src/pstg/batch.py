"""Samples as columns: the unit that travels the data path.

A poll of one read block yields one `Batch`: the tags it holds (as indexes into the station's
tag table, not names), when the answer arrived, the values, qualities and reasons, each a
NumPy column. Decoding, report by exception, storage and the live view work on whole columns,
so the cost per value is a few machine operations rather than a Python object per sample.
`Sample` objects are made only where a consumer wants one value at a time (alarms on a few
tags, the API); see `Batch.samples`.

String tags are rare and their values are not numbers: they travel beside the columns as
`TextSample` rows.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from pstg.model import (
    QUALITY_CODES,
    QUALITY_OF_CODE,
    REASON_CODES,
    REASON_OF_CODE,
    Sample,
)
from pstg.times import from_micros, to_micros

TagColumn = npt.NDArray[np.int32]
TimeColumn = npt.NDArray[np.int64]
ValueColumn = npt.NDArray[np.float64]
CodeColumn = npt.NDArray[np.uint8]


class TextSample(NamedTuple):
    """One sample of a string tag; `text` is None when the quality is bad."""

    tag: int
    ts: int
    text: str | None
    quality: int
    reason: int


@dataclass(frozen=True, slots=True)
class Batch:
    """Samples as columns; every column has one entry per numeric sample.

    - `tags`: int32 indexes into the station's tag table (see pstg.processing.tags)
    - `ts`: int64 microseconds since the Unix epoch, UTC
    - `values`: float64; NaN where the sample has no value (its quality is then bad)
    - `quality`, `reason`: uint8 codes (pstg.model.QUALITY_CODES, REASON_CODES)
    - `texts`: the samples of string tags
    """

    tags: TagColumn
    ts: TimeColumn
    values: ValueColumn
    quality: CodeColumn
    reason: CodeColumn
    texts: tuple[TextSample, ...] = ()

    def __len__(self) -> int:
        return len(self.tags) + len(self.texts)

    @classmethod
    def empty(cls) -> Batch:
        return cls(_EMPTY_TAGS, _EMPTY_TIMES, _EMPTY_VALUES, _EMPTY_CODES, _EMPTY_CODES)

    @classmethod
    def concat(cls, batches: Sequence[Batch]) -> Batch:
        """One batch holding the rows of `batches`, in order."""
        if len(batches) == 1:
            return batches[0]
        if not batches:
            return cls.empty()
        return cls(
            np.concatenate([b.tags for b in batches]),
            np.concatenate([b.ts for b in batches]),
            np.concatenate([b.values for b in batches]),
            np.concatenate([b.quality for b in batches]),
            np.concatenate([b.reason for b in batches]),
            tuple(text for b in batches for text in b.texts),
        )

    def select(self, rows: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> Batch:
        """The numeric rows chosen by a boolean mask or an index array; texts are kept."""
        return Batch(
            self.tags[rows],
            self.ts[rows],
            self.values[rows],
            self.quality[rows],
            self.reason[rows],
            self.texts,
        )

    def with_texts(self, texts: tuple[TextSample, ...]) -> Batch:
        return Batch(self.tags, self.ts, self.values, self.quality, self.reason, texts)

    @classmethod
    def from_samples(
        cls,
        samples: Iterable[Sample],
        index_of: Mapping[str, int],
        text_tags: Container[int] = (),
    ) -> Batch:
        """A batch of `samples` (tests, imports, adapters); KeyError for an unknown tag.

        Samples of `text_tags` (indexes) travel as texts even without a value."""
        tags: list[int] = []
        times: list[int] = []
        values: list[float] = []
        qualities: list[int] = []
        reasons: list[int] = []
        texts: list[TextSample] = []
        for sample in samples:
            index = index_of[sample.tag]
            ts = to_micros(sample.ts)
            quality, reason = QUALITY_CODES[sample.quality], REASON_CODES[sample.reason]
            if isinstance(sample.value, str) or index in text_tags:
                text = None if sample.value is None else str(sample.value)
                texts.append(TextSample(index, ts, text, quality, reason))
                continue
            tags.append(index)
            times.append(ts)
            values.append(np.nan if sample.value is None else float(sample.value))
            qualities.append(quality)
            reasons.append(reason)
        return cls(
            np.array(tags, dtype=np.int32),
            np.array(times, dtype=np.int64),
            np.array(values, dtype=np.float64),
            np.array(qualities, dtype=np.uint8),
            np.array(reasons, dtype=np.uint8),
            tuple(texts),
        )

    def samples(self, names: Sequence[str]) -> Iterator[Sample]:
        """The rows as `Sample` objects (numeric rows first, then texts); `names[i]` is the name
        of tag index i. For consumers that need one value at a time, never the hot path."""
        for index, ts, value, quality, reason in zip(
            self.tags.tolist(),
            self.ts.tolist(),
            self.values.tolist(),
            self.quality.tolist(),
            self.reason.tolist(),
            strict=True,
        ):
            yield Sample(
                names[index],
                from_micros(ts),
                None if value != value else value,  # NaN: no value
                QUALITY_OF_CODE[quality],
                REASON_OF_CODE[reason],
            )
        for text in self.texts:
            yield Sample(
                names[text.tag],
                from_micros(text.ts),
                text.text,
                QUALITY_OF_CODE[text.quality],
                REASON_OF_CODE[text.reason],
            )


# --- joining batches ---------------------------------------------------------------------------
# Every vector operation on a batch has a fixed cost of a microsecond or two, whatever its size:
# on a 100-row batch of one device's cycle that fixed cost is most of the work (report by
# exception measured 0.84 µs per value on 100-row batches, 0.11 µs on 2000-row ones). So the
# pipeline and the worker processes gather the cycles of a few milliseconds into one batch.
# Report by exception compares each row with its tag's last stored row, so a batch may not hold
# a tag twice: a batch that would repeat a tag starts a new one.


class Coalescer:
    """Collects batches of tags numbered below `tag_count`; `take` returns them joined."""

    def __init__(self, tag_count: int) -> None:
        self._claimed = np.zeros(tag_count, dtype=np.bool_)
        self._claimed_texts: set[int] = set()
        self._group: list[Batch] = []
        self._done: list[Batch] = []
        self.rows = 0
        """Rows collected since the last `take`."""

    def add(self, batch: Batch) -> None:
        tags = batch.tags
        clash = bool(self._claimed[tags].any()) or any(
            text.tag in self._claimed_texts for text in batch.texts
        )
        if clash:
            self._close_group()
        self._claimed[tags] = True
        self._claimed_texts.update(text.tag for text in batch.texts)
        self._group.append(batch)
        self.rows += len(batch)

    def take(self) -> list[Batch]:
        """The joined batches, in the order their rows came; the coalescer is empty after."""
        self._close_group()
        done, self._done = self._done, []
        self.rows = 0
        return done

    def _close_group(self) -> None:
        if not self._group:
            return
        joined = Batch.concat(self._group)
        self._claimed[joined.tags] = False
        self._claimed_texts.clear()
        self._done.append(joined)
        self._group = []


_EMPTY_TAGS: TagColumn = np.empty(0, dtype=np.int32)
_EMPTY_TIMES: TimeColumn = np.empty(0, dtype=np.int64)
_EMPTY_VALUES: ValueColumn = np.empty(0, dtype=np.float64)
_EMPTY_CODES: CodeColumn = np.empty(0, dtype=np.uint8)
