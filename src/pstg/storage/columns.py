"""Rows to store, as columns keyed by database tag id: what the writer flushes and spools.

A `Batch` names its tags by index into the station's tag table; the database (and the spool,
which must survive a change of config) names them by tag id. `SampleColumns` is a batch after
that translation: NumPy columns for the numeric rows (NaN = no value, the sample is bad), and
the few rows of string tags as `StoredRow`s with their text. A string tag's sample without
text (bad quality) is a numeric row without value, the way it is stored.

Converting to and from `StoredRow` lists keeps the row-wise callers (import, tests) working
on the same code path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pstg.batch import Batch
from pstg.storage.rows import StoredRow

Ids = npt.NDArray[np.int64]
Times = npt.NDArray[np.int64]
Values = npt.NDArray[np.float64]
Codes = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class SampleColumns:
    """Numeric rows as columns (one entry per row) plus text rows (`text` is never None)."""

    tag_id: Ids
    ts: Times
    value: Values
    quality: Codes
    reason: Codes
    texts: tuple[StoredRow, ...] = ()

    def __len__(self) -> int:
        return len(self.tag_id) + len(self.texts)

    @property
    def numbers(self) -> int:
        return len(self.tag_id)

    @classmethod
    def empty(cls) -> SampleColumns:
        return cls(_NO_IDS, _NO_IDS, _NO_VALUES, _NO_CODES, _NO_CODES)

    @classmethod
    def of_batch(cls, batch: Batch, ids: Ids) -> SampleColumns:
        """`batch` with tag indexes replaced by the ids `ids[index]`; the caller has checked
        that every index is in range."""
        texts: list[StoredRow] = []
        bad_texts: list[tuple[int, int, int, int]] = []
        for tag, ts, text, quality, reason in batch.texts:
            if text is None:
                bad_texts.append((int(ids[tag]), ts, quality, reason))
            else:
                texts.append(StoredRow(int(ids[tag]), ts, None, text, quality, reason))
        columns = cls(
            ids[batch.tags], batch.ts, batch.values, batch.quality, batch.reason, tuple(texts)
        )
        if not bad_texts:
            return columns
        tag_ids, stamps, qualities, reasons = zip(*bad_texts, strict=True)
        extra = cls(
            np.array(tag_ids, dtype=np.int64),
            np.array(stamps, dtype=np.int64),
            np.full(len(bad_texts), np.nan),
            np.array(qualities, dtype=np.uint8),
            np.array(reasons, dtype=np.uint8),
        )
        return cls.concat([columns, extra])

    @classmethod
    def of_rows(cls, rows: Sequence[StoredRow]) -> SampleColumns:
        """Columns of `rows`, in order (rows with text go to `texts`)."""
        numbers = [row for row in rows if row.text is None]
        texts = tuple(row for row in rows if row.text is not None)
        if not numbers:
            return cls.empty().with_texts(texts)
        tag_ids, stamps, values, _, qualities, reasons = zip(*numbers, strict=True)
        return cls(
            np.array(tag_ids, dtype=np.int64),
            np.array(stamps, dtype=np.int64),
            np.array([np.nan if v is None else v for v in values], dtype=np.float64),
            np.array(qualities, dtype=np.uint8),
            np.array(reasons, dtype=np.uint8),
            texts,
        )

    def rows(self) -> list[StoredRow]:
        """The rows as `StoredRow`s: numeric rows first, then the texts."""
        values = self.value.tolist()
        return [
            StoredRow(tag_id, ts, None if value != value else value, None, quality, reason)
            for tag_id, ts, value, quality, reason in zip(
                self.tag_id.tolist(),
                self.ts.tolist(),
                values,
                self.quality.tolist(),
                self.reason.tolist(),
                strict=True,
            )
        ] + list(self.texts)

    def with_texts(self, texts: tuple[StoredRow, ...]) -> SampleColumns:
        return SampleColumns(self.tag_id, self.ts, self.value, self.quality, self.reason, texts)

    def select(self, rows: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> SampleColumns:
        """The numeric rows chosen by a mask or index array; texts are kept."""
        return SampleColumns(
            self.tag_id[rows],
            self.ts[rows],
            self.value[rows],
            self.quality[rows],
            self.reason[rows],
            self.texts,
        )

    @classmethod
    def concat(cls, parts: Sequence[SampleColumns]) -> SampleColumns:
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.tag_id for p in parts]),
            np.concatenate([p.ts for p in parts]),
            np.concatenate([p.value for p in parts]),
            np.concatenate([p.quality for p in parts]),
            np.concatenate([p.reason for p in parts]),
            tuple(text for p in parts for text in p.texts),
        )

    def last_of_each_key(self) -> SampleColumns:
        """Without repeated (tag_id, ts) keys: the last row of each key is kept (numbers and
        texts separately, as they are stored in different tables)."""
        texts = tuple({(r.tag_id, r.ts): r for r in self.texts}.values())
        n = self.numbers
        if n < 2:
            return self.with_texts(texts)
        # Sorted by key, then by position: a key's last row is the one before the next key.
        order = np.lexsort((np.arange(n), self.ts, self.tag_id))
        tag_id, ts = self.tag_id[order], self.ts[order]
        last = np.ones(n, dtype=np.bool_)
        last[:-1] = (tag_id[1:] != tag_id[:-1]) | (ts[1:] != ts[:-1])
        if last.all():
            return self.with_texts(texts)
        return self.select(np.sort(order[last])).with_texts(texts)


_NO_IDS: Ids = np.empty(0, dtype=np.int64)
_NO_VALUES: Values = np.empty(0, dtype=np.float64)
_NO_CODES: Codes = np.empty(0, dtype=np.uint8)
