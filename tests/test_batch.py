"""Batches: built from samples and back, selected, joined; the coalescer never lets a tag
appear twice in one joined batch."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pstg.batch import Batch, Coalescer
from pstg.model import Quality, QualityReason, Sample, utc_now

NAMES = ("a", "b", "c", "s")
INDEX = {name: n for n, name in enumerate(NAMES)}


def test_samples_round_trip_through_columns():
    now = utc_now()
    samples = [
        Sample("a", now, 1.5),
        Sample("b", now, None, Quality.BAD, QualityReason.TIMEOUT),
        Sample("c", now, 7.0, Quality.UNCERTAIN, QualityReason.OUT_OF_RANGE),
        Sample("s", now, "auto"),
    ]
    batch = Batch.from_samples(samples, INDEX)
    assert len(batch) == 4
    assert list(batch.samples(NAMES)) == samples
    chosen = batch.select(np.array([False, True, False]))
    assert list(chosen.samples(NAMES)) == [samples[1], samples[3]]  # texts are kept


def one(tag: int, ts: int) -> Batch:
    return Batch(
        np.array([tag], dtype=np.int32),
        np.array([ts], dtype=np.int64),
        np.array([float(ts)]),
        np.zeros(1, dtype=np.uint8),
        np.zeros(1, dtype=np.uint8),
    )


@settings(max_examples=200)
@given(st.lists(st.integers(0, 5), max_size=40))
def test_coalescing_keeps_every_row_in_order_and_each_tag_once_per_batch(tags):
    coalescer = Coalescer(6)
    for ts, tag in enumerate(tags):
        coalescer.add(one(tag, ts))
    assert coalescer.rows == len(tags)
    joined = coalescer.take()
    assert coalescer.rows == 0
    for batch in joined:
        assert len(set(batch.tags.tolist())) == len(batch.tags)
    rows = [(int(t), int(ts)) for b in joined for t, ts in zip(b.tags, b.ts, strict=True)]
    assert rows == [(tag, ts) for ts, tag in enumerate(tags)]
    # A tag read k times needs k batches; consecutive distinct tags share one.
    assert len(joined) >= max((tags.count(t) for t in set(tags)), default=0)
