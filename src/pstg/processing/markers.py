"""Markers: rows that say a tag was *not* read from some time on.

When the gateway stops, every tag gets a bad row with reason `stopped`; after a crash the next
start writes one where the last run's data ends. A trend then shows a gap over the outage
instead of carrying the last value across it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pstg.batch import Batch, TextSample
from pstg.config.tag_table import TagTable
from pstg.model import BAD_CODE, REASON_CODES, QualityReason


def not_read(
    tags: TagTable, reason: QualityReason, ts: int, indexes: Sequence[int] | None = None
) -> Batch:
    """A bad row for `reason` at `ts` (µs) for each tag of `indexes` (default: all)."""
    chosen = np.arange(len(tags)) if indexes is None else np.asarray(indexes, dtype=np.intp)
    text = tags.is_text[chosen]
    numeric = chosen[~text].astype(np.int32)
    code = REASON_CODES[reason]
    texts = tuple(TextSample(int(i), ts, None, BAD_CODE, code) for i in chosen[text].tolist())
    count = len(numeric)
    return Batch(
        numeric,
        np.full(count, ts, dtype=np.int64),
        np.full(count, np.nan, dtype=np.float64),
        np.full(count, BAD_CODE, dtype=np.uint8),
        np.full(count, code, dtype=np.uint8),
        texts,
    )
