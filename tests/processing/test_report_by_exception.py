"""Report by exception: each rule as a table of sample sequences, then a reference model."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pstg.batch import Batch
from pstg.model import Quality, QualityReason, Sample
from pstg.processing.report_by_exception import ReportByException

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
G, U, B = Quality.GOOD, Quality.UNCERTAIN, Quality.BAD
NONE, TIMEOUT, COMM = QualityReason.NONE, QualityReason.TIMEOUT, QualityReason.COMM_FAILURE
TAG = "wet_well.level"
NAMES = (TAG, "a", "b", "t", "u")
INDEX = {name: index for index, name in enumerate(NAMES)}
TEXT_TAGS = {INDEX["t"]}


class Filter:
    """ReportByException fed one sample at a time, as the old per-sample interface was."""

    def __init__(self, *, heartbeat: float, deadbands: Mapping[str, float | None]) -> None:
        column = np.array([deadbands.get(name) or 0.0 for name in NAMES], dtype=np.float64)
        self.rbe = ReportByException(heartbeat=heartbeat, deadbands=column)

    def admit(self, sample: Sample) -> bool:
        return len(self.rbe.changes(Batch.from_samples([sample], INDEX, TEXT_TAGS))) == 1

    def filter(self, samples: list[Sample]) -> list[Sample]:
        kept = self.rbe.changes(Batch.from_samples(samples, INDEX, TEXT_TAGS))
        return list(kept.samples(NAMES))

    def forget(self, name: str) -> None:
        self.rbe.forget(INDEX[name])

    @property
    def admitted(self) -> int:
        return self.rbe.admitted

    @property
    def suppressed(self) -> int:
        return self.rbe.suppressed


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


Step = tuple[float, float | str | None, Quality, QualityReason, bool]

# (seconds, value, quality, reason, stored?) of one tag, with that tag's deadband and heartbeat.
CASES: dict[str, tuple[float | None, float, list[Step]]] = {
    "first stored, equal values not": (
        None,
        60,
        [(0, 1.5, G, NONE, True), (1, 1.5, G, NONE, False), (2, 1.5, G, NONE, False)],
    ),
    "exactly the deadband is not a change, just above is": (
        0.5,
        60,
        [
            (0, 10.0, G, NONE, True),
            (1, 10.5, G, NONE, False),
            (2, 9.5, G, NONE, False),
            (3, 10.500001, G, NONE, True),
            (4, 11.0, G, NONE, False),
            (5, 10.0, G, NONE, True),
        ],
    ),
    "compared with the last stored value, so a slow drift is stored once it adds up": (
        1.0,
        60,
        [
            (0, 0.0, G, NONE, True),
            (1, 0.6, G, NONE, False),
            (2, 1.2, G, NONE, True),
            (3, 0.5, G, NONE, False),
            (4, 0.1, G, NONE, True),
        ],
    ),
    "deadband None stores any change": (
        None,
        60,
        [(0, 2.0, G, NONE, True), (1, 2.0 + 1e-12, G, NONE, True), (2, 2.0, G, NONE, True)],
    ),
    "deadband 0 stores any change": (
        0.0,
        60,
        [(0, 2.0, G, NONE, True), (1, 2.0, G, NONE, False), (2, 2.0000001, G, NONE, True)],
    ),
    "heartbeat stores an unchanged value, counted from the last stored sample": (
        0.5,
        10,
        [
            (0, 1.0, G, NONE, True),
            (5, 1.0, G, NONE, False),
            (9.999999, 1.0, G, NONE, False),
            (10, 1.0, G, NONE, True),  # exactly one heartbeat
            (13, 2.0, G, NONE, True),  # a change restarts the heartbeat
            (22, 2.0, G, NONE, False),
            (23, 2.1, G, NONE, True),  # within the deadband but due
        ],
    ),
    "quality changes both ways are stored": (
        1.0,
        60,
        [
            (0, 5.0, G, NONE, True),
            (1, 5.0, U, NONE, True),
            (2, 5.1, U, NONE, False),
            (3, 5.1, G, NONE, True),
        ],
    ),
    "a bad period is stored at its start, at a change of reason and at its end": (
        None,
        60,
        [
            (0, 3.0, G, NONE, True),
            (1, None, B, TIMEOUT, True),
            (2, None, B, TIMEOUT, False),
            (3, None, B, COMM, True),
            (4, None, B, COMM, False),
            (5, 3.0, G, NONE, True),  # the same value as before the gap: still stored
            (6, 3.0, G, NONE, False),
        ],
    ),
    "a missing value changes nothing by itself; the heartbeat stores it": (
        None,
        10,
        [
            (0, None, B, TIMEOUT, True),
            (5, None, B, TIMEOUT, False),
            (10, None, B, TIMEOUT, True),
            (11, 7.0, U, NONE, True),
            (12, None, U, NONE, False),
            (13, 7.0, U, NONE, False),  # compared with 7.0 stored at 11
        ],
    ),
    "a value after a stored None of the same quality is a change": (
        5.0,
        60,
        [(0, None, U, NONE, True), (1, 1.0, U, NONE, True), (2, 1.0, U, NONE, False)],
    ),
    "text: any change, whatever the deadband": (
        5.0,
        60,
        [
            (0, "auto", G, NONE, True),
            (1, "auto", G, NONE, False),
            (2, "hand", G, NONE, True),
            (3, "", G, NONE, True),
            (4, None, B, TIMEOUT, True),
            (5, None, B, TIMEOUT, False),
            (6, "", G, NONE, True),
        ],
    ),
    "a clock going backwards or a duplicate timestamp is never stored": (
        None,
        5,
        [
            (10, 1.0, G, NONE, True),
            (9, 2.0, B, TIMEOUT, False),
            (10, 3.0, U, NONE, False),
            (-100, 1.0, G, NONE, False),
            (10.000001, 1.0, G, NONE, False),  # newer: judged by the rules again
            (15, 1.0, G, NONE, True),  # the heartbeat still counts from 10
        ],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_rules(case):
    deadband, heartbeat, steps = CASES[case]
    tag = "t" if any(isinstance(step[1], str) for step in steps) else TAG
    rbe = Filter(heartbeat=heartbeat, deadbands={tag: deadband})
    decisions = [
        rbe.admit(Sample(tag, at(seconds), value, quality, reason))
        for seconds, value, quality, reason, _ in steps
    ]
    assert decisions == [expected for *_, expected in steps]
    assert rbe.admitted == sum(decisions)
    assert rbe.suppressed == len(steps) - sum(decisions)


def test_tags_are_independent_and_keep_their_own_deadbands():
    rbe = Filter(heartbeat=60, deadbands={"a": 1.0, "b": 0.1})
    decisions = [
        rbe.admit(Sample(tag, at(seconds), value))
        for tag, seconds, value in [
            ("a", 0, 0.0),
            ("b", 0, 0.0),  # first of b, even though a has the same value
            ("a", 1, 0.5),  # within a's deadband
            ("b", 1, 0.5),  # beyond b's
            ("a", 2, 0.5),
            ("b", 0.5, 9.0),  # before b's last stored (1 s) though after a's last
            ("u", 3, 0.5),  # no deadband configured: any change
            ("u", 4, 0.5000001),
        ]
    ]
    assert decisions == [True, True, False, True, False, False, True, True]


def test_quality_of_one_tag_does_not_affect_another():
    rbe = Filter(heartbeat=60, deadbands={})
    assert rbe.admit(Sample("a", at(0), 1.0))
    assert rbe.admit(Sample("b", at(0), 1.0))
    assert rbe.admit(Sample.bad("a", at(1), TIMEOUT))
    assert not rbe.admit(Sample("b", at(1), 1.0))


def test_filter_keeps_order_and_counts():
    rbe = Filter(heartbeat=60, deadbands={"a": 0.5})
    samples = [Sample("a", at(i), value) for i, value in enumerate([1, 1.2, 2, 2, 1, 1.4, 1.6])]
    kept = rbe.filter([samples[0]]) + [s for s in samples[1:] if rbe.admit(s)]
    assert kept == [samples[0], samples[2], samples[4], samples[6]]
    assert (rbe.admitted, rbe.suppressed) == (4, 3)


def test_forget_makes_the_next_sample_a_first():
    rbe = Filter(heartbeat=60, deadbands={TAG: 1.0})
    assert rbe.admit(Sample(TAG, at(10), 1.0))
    assert not rbe.admit(Sample(TAG, at(11), 1.0))
    rbe.forget(TAG)
    rbe.forget("u")  # never seen
    assert rbe.admit(Sample(TAG, at(5), 1.0))  # even an older one: the history is gone


def test_heartbeat_far_in_the_future_never_overflows():
    rbe = Filter(heartbeat=1e10, deadbands={})
    late = datetime(9999, 12, 31, tzinfo=UTC)
    assert rbe.admit(Sample(TAG, late, 1.0))
    assert not rbe.admit(Sample(TAG, late + timedelta(seconds=1), 1.0))


@pytest.mark.parametrize(
    ("heartbeat", "deadbands"),
    [(0, {}), (-1, {}), (float("inf"), {}), (float("nan"), {}), (10, {"a": -0.1})],
)
def test_rejects_nonsense(heartbeat, deadbands):
    with pytest.raises(ValueError, match=r"heartbeat|deadband"):
        Filter(heartbeat=heartbeat, deadbands=deadbands)


class Reference:
    """The rules written as plainly as possible, with float seconds."""

    def __init__(self, heartbeat, deadbands):
        self.heartbeat, self.deadbands, self.last = heartbeat, deadbands, {}

    def admit(self, s):
        last = self.last.get(s.tag)
        stored = self._stored(s, last)
        if stored:
            self.last[s.tag] = s
        return stored

    def _stored(self, s, last):
        if last is None:
            return True
        if s.ts <= last.ts:
            return False
        if (s.ts - last.ts).total_seconds() >= self.heartbeat:
            return True
        if (s.quality, s.reason) != (last.quality, last.reason):
            return True
        if s.value is None:
            return False
        if isinstance(s.value, str) or isinstance(last.value, str) or last.value is None:
            return s.value != last.value
        deadband = self.deadbands.get(s.tag) or 0.0
        if deadband == 0:
            return s.value != last.value
        return abs(s.value - last.value) > deadband


NUMBERS = st.sampled_from([0.0, -0.0, 0.25, 0.5, 0.75, 1.0, 100.0])
samples_strategy = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["a", "b"]), st.integers(-3, 8), st.none() | NUMBERS),
        st.tuples(st.just("t"), st.integers(-3, 8), st.none() | st.sampled_from(["on", "off"])),
    ).flatmap(
        # step in tenths of a second: backwards, equal and forwards
        lambda head: st.tuples(
            st.just(head[0]),
            st.just(head[1]),
            st.just(head[2]),
            st.sampled_from([G, U, B]),
            st.sampled_from([NONE, TIMEOUT]),
        )
    ),
    max_size=60,
)


@settings(max_examples=300)
@given(samples_strategy)
def test_matches_the_reference_model(steps):
    deadbands = {"a": 0.5, "b": None}
    rbe, reference = (
        Filter(heartbeat=2.0, deadbands=deadbands),
        Reference(2.0, deadbands),
    )
    tenths = 0
    for tag, step, value, quality, reason in steps:
        tenths += step
        sample = Sample(tag, T0 + timedelta(seconds=tenths / 10), value, quality, reason)
        assert rbe.admit(sample) == reference.admit(sample), sample


@settings(max_examples=200)
@given(st.lists(st.lists(st.tuples(NUMBERS, st.sampled_from([G, B])), min_size=4, max_size=4),
                max_size=20))  # fmt: skip
def test_a_whole_batch_decides_as_its_rows_one_by_one(cycles):
    """Columns of several tags at once give what the same readings give one at a time."""
    deadbands = {TAG: 0.3, "a": 0.0, "b": 1.0, "u": 0.25}
    whole, single = (
        Filter(heartbeat=2.0, deadbands=deadbands),
        Filter(heartbeat=2.0, deadbands=deadbands),
    )
    for n, cycle in enumerate(cycles):
        ts = at(n * 0.7)
        samples = [
            Sample(name, ts, value if quality is G else None, quality,
                   NONE if quality is G else TIMEOUT)
            for name, (value, quality) in zip((TAG, "a", "b", "u"), cycle, strict=True)
        ]  # fmt: skip
        assert whole.filter(samples) == [s for s in samples if single.admit(s)]
