"""Report by exception: each rule as a table of sample sequences, then a reference model."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pstg.model import Quality, QualityReason, Sample
from pstg.storage.exception import ReportByException

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
G, U, B = Quality.GOOD, Quality.UNCERTAIN, Quality.BAD
NONE, TIMEOUT, COMM = QualityReason.NONE, QualityReason.TIMEOUT, QualityReason.COMM_FAILURE
TAG = "wet_well.level"


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
            (4, 1.0, G, NONE, True),  # a change of type is a change
            (5, "1.0", G, NONE, True),
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
    rbe = ReportByException(heartbeat=heartbeat, deadbands={TAG: deadband})
    decisions = [
        rbe.admit(Sample(TAG, at(seconds), value, quality, reason))
        for seconds, value, quality, reason, _ in steps
    ]
    assert decisions == [expected for *_, expected in steps]
    assert rbe.admitted == sum(decisions)
    assert rbe.suppressed == len(steps) - sum(decisions)


def test_tags_are_independent_and_keep_their_own_deadbands():
    rbe = ReportByException(heartbeat=60, deadbands={"a": 1.0, "b": 0.1})
    decisions = [
        rbe.admit(Sample(tag, at(seconds), value))
        for tag, seconds, value in [
            ("a", 0, 0.0),
            ("b", 0, 0.0),  # first of b, even though a has the same value
            ("a", 1, 0.5),  # within a's deadband
            ("b", 1, 0.5),  # beyond b's
            ("a", 2, 0.5),
            ("b", 0.5, 9.0),  # before b's last stored (1 s) though after a's last
            ("c", 3, 0.5),  # no deadband configured: any change
            ("c", 4, 0.5000001),
        ]
    ]
    assert decisions == [True, True, False, True, False, False, True, True]


def test_quality_of_one_tag_does_not_affect_another():
    rbe = ReportByException(heartbeat=60, deadbands={})
    assert rbe.admit(Sample("a", at(0), 1.0))
    assert rbe.admit(Sample("b", at(0), 1.0))
    assert rbe.admit(Sample.bad("a", at(1), TIMEOUT))
    assert not rbe.admit(Sample("b", at(1), 1.0))


def test_filter_keeps_order_and_counts():
    rbe = ReportByException(heartbeat=60, deadbands={"a": 0.5})
    samples = [Sample("a", at(i), value) for i, value in enumerate([1, 1.2, 2, 2, 1, 1.4, 1.6])]
    kept = rbe.filter(samples)
    assert kept == [samples[0], samples[2], samples[4], samples[6]]
    assert (rbe.admitted, rbe.suppressed) == (4, 3)


def test_forget_makes_the_next_sample_a_first():
    rbe = ReportByException(heartbeat=60, deadbands={TAG: 1.0})
    assert rbe.admit(Sample(TAG, at(10), 1.0))
    assert not rbe.admit(Sample(TAG, at(11), 1.0))
    rbe.forget(TAG)
    rbe.forget("never.seen")
    assert rbe.admit(Sample(TAG, at(5), 1.0))  # even an older one: the history is gone


def test_heartbeat_far_in_the_future_never_overflows():
    rbe = ReportByException(heartbeat=1e10, deadbands={})
    late = datetime(9999, 12, 31, tzinfo=UTC)
    assert rbe.admit(Sample(TAG, late, 1.0))
    assert not rbe.admit(Sample(TAG, late + timedelta(seconds=1), 1.0))


@pytest.mark.parametrize(
    ("heartbeat", "deadbands"),
    [(0, {}), (-1, {}), (float("inf"), {}), (float("nan"), {}), (10, {"a": -0.1})],
)
def test_rejects_nonsense(heartbeat, deadbands):
    with pytest.raises(ValueError, match=r"heartbeat|deadband"):
        ReportByException(heartbeat=heartbeat, deadbands=deadbands)


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


samples_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.integers(-3, 8),  # step in tenths of a second: backwards, equal and forwards
        st.one_of(
            st.none(),
            st.sampled_from([0.0, -0.0, 0.25, 0.5, 0.75, 1.0, 100.0]),
            st.sampled_from(["on", "off"]),
        ),
        st.sampled_from([G, U, B]),
        st.sampled_from([NONE, TIMEOUT]),
    ),
    max_size=60,
)


@settings(max_examples=300)
@given(samples_strategy)
def test_matches_the_reference_model(steps):
    deadbands = {"a": 0.5, "b": None}
    rbe, reference = (
        ReportByException(heartbeat=2.0, deadbands=deadbands),
        Reference(2.0, deadbands),
    )
    tenths = 0
    for tag, step, value, quality, reason in steps:
        tenths += step
        sample = Sample(tag, T0 + timedelta(seconds=tenths / 10), value, quality, reason)
        assert rbe.admit(sample) == reference.admit(sample), sample
