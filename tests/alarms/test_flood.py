"""A flood: 10 000 transitions in 20 poll batches, all of them right (timing: docs/alarms.md)."""

from __future__ import annotations

from pstg.alarms import AlarmState
from pstg.model import Sample
from tests.alarms.support import at, engine

S = AlarmState
ALARMS = 250  # of each of two kinds
BATCHES = 20  # 500 alarms x 20 batches = 10 000 transitions


def test_ten_thousand_transitions() -> None:
    rules = [{"tag": f"t{n}", "kind": "discrete", "value": 1} for n in range(ALARMS)]
    rules += [{"tag": f"t{n}", "kind": "high", "limit": 0.5} for n in range(ALARMS, 2 * ALARMS)]
    eng = engine(*rules)
    transitions = []
    for batch in range(BATCHES):
        value = float(batch % 2 == 0)
        ts = at(batch)
        # every watched tag plus as many unwatched ones, as a real poll batch would carry
        samples = [Sample(f"t{n}", ts, value) for n in range(2 * ALARMS)]
        samples += [Sample(f"other{n}", ts, value) for n in range(ALARMS)]
        transitions += eng.process(samples)
        transitions += eng.tick(ts)
    assert len(transitions) == 2 * ALARMS * BATCHES
    assert len(transitions) == 10_000
    assert [t.state for t in transitions[:: 2 * ALARMS]] == [S.UNACK, S.RTN_UNACK] * 10
    assert all(alarm.state is S.RTN_UNACK for alarm in eng.alarms())
    # a tick with nothing pending visits nothing
    assert eng.tick(at(BATCHES + 1)) == []
