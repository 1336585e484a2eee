"""The lifecycle, as a table: every (state, trigger) pair, in the pure table and in the engine.

The first test reads `states.next_state` directly; the second drives a real engine into each
state with samples and operator actions, applies each trigger the same way, and checks the
state it ends in and whether a transition was journaled.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pstg.alarms import ActionRefused, AlarmEngine, AlarmState, Transition, Trigger
from pstg.alarms.states import TRANSITIONS, next_state, released
from tests.alarms.support import at, engine, good

S = AlarmState
T = Trigger

# (state, trigger) -> next state; "release" resolves by the condition; missing pairs: None.
PURE_TABLE = """
normal                   activated            unacknowledged
normal                   shelved              shelved
normal                   suppressed           suppressed
normal                   out_of_service       out_of_service
unacknowledged           acknowledged         acknowledged
unacknowledged           cleared              returned_unacknowledged
unacknowledged           shelved              shelved
unacknowledged           suppressed           suppressed
unacknowledged           out_of_service       out_of_service
acknowledged             cleared              normal
acknowledged             shelved              shelved
acknowledged             suppressed           suppressed
acknowledged             out_of_service       out_of_service
returned_unacknowledged  acknowledged         normal
returned_unacknowledged  activated            unacknowledged
returned_unacknowledged  shelved              shelved
returned_unacknowledged  suppressed           suppressed
returned_unacknowledged  out_of_service       out_of_service
shelved                  shelved              shelved
shelved                  unshelved            release
shelved                  out_of_service       out_of_service
suppressed               shelved              shelved
suppressed               unsuppressed         release
suppressed               out_of_service       out_of_service
out_of_service           returned_to_service  release
"""

_TRIGGER_WORDS = {"out_of_service": T.REMOVE, "returned_to_service": T.RETURN}


def _pure_rows() -> dict[tuple[AlarmState, Trigger], str]:
    rows = {}
    for line in PURE_TABLE.strip().splitlines():
        state, trigger, target = line.split()
        rows[S(state), _TRIGGER_WORDS.get(trigger) or T(trigger)] = target
    return rows


PURE = _pure_rows()


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("trigger", list(T))
def test_the_pure_table(state: AlarmState, trigger: Trigger) -> None:
    target = PURE.get((state, trigger))
    for active in (False, True):
        for suppressed in (False, True):
            got = next_state(state, trigger, active=active, suppressed=suppressed)
            if target is None:
                assert got is None
            elif target == "release":
                assert got is released(active=active, suppressed=suppressed)
            else:
                assert got is S(target)


def test_the_table_has_no_pair_the_test_does_not_know() -> None:
    assert set(TRANSITIONS) == set(PURE)


def test_release_goes_by_suppression_then_condition() -> None:
    assert released(active=True, suppressed=True) is S.SUPPRESSED
    assert released(active=True, suppressed=False) is S.UNACK
    assert released(active=False, suppressed=False) is S.NORMAL


# --- the same through the engine -------------------------------------------------------------

LEVEL, MODE = "wet_well.level", "station.maintenance"
ALARM = "wet_well.level.high"


class Driver:
    """One high alarm (limit 3, suppressed while maintenance == 1), driven step by step."""

    def __init__(self) -> None:
        self.engine: AlarmEngine = engine(
            {"tag": LEVEL, "kind": "high", "limit": 3, "suppress_when": {"tag": MODE, "value": 1}}
        )
        self.seconds = 0.0
        self.apply("level 1")
        self.apply("mode 0")

    def apply(self, step: str) -> list[Transition]:
        self.seconds += 1
        now = at(self.seconds)
        eng = self.engine
        word, _, argument = step.partition(" ")
        if word == "level":
            return eng.process([good(LEVEL, self.seconds, float(argument))])
        if word == "mode":
            return eng.process([good(MODE, self.seconds, float(argument))])
        action: dict[str, Callable[[], Transition]] = {
            "ack": lambda: eng.acknowledge(ALARM, "olga", "seen", now),
            "shelve": lambda: eng.shelve(ALARM, "olga", "noisy", 600, now),
            "unshelve": lambda: eng.unshelve(ALARM, "olga", None, now),
            "remove": lambda: eng.set_out_of_service(ALARM, "eng", "sensor swap", False, now),
            "return": lambda: eng.set_out_of_service(ALARM, "eng", "done", True, now),
        }
        return [action[word]()]

    @property
    def state(self) -> AlarmState:
        return self.engine.get(ALARM).state


STARTS = {
    "normal": [],
    "unacknowledged": ["level 4"],
    "acknowledged": ["level 4", "ack"],
    "returned_unacknowledged": ["level 4", "level 1"],
    "shelved": ["shelve"],
    "shelved+active": ["shelve", "level 4"],
    "shelved+suppressed": ["shelve", "mode 1"],
    "suppressed": ["mode 1"],
    "suppressed+active": ["mode 1", "level 4"],
    "out_of_service": ["remove"],
    "out_of_service+active": ["level 4", "remove"],
    "out_of_service+suppressed": ["remove", "mode 1"],
}
TRIGGERS = {
    "activate": "level 4",
    "clear": "level 1",
    "ack": "ack",
    "shelve": "shelve",
    "unshelve": "unshelve",
    "suppress": "mode 1",
    "unsuppress": "mode 0",
    "remove": "remove",
    "return": "return",
}

# start, trigger -> result: a state (journaled), "= state" (no transition) or "refused".
ENGINE_TABLE = """
normal                      activate    unacknowledged
normal                      clear       = normal
normal                      ack         refused
normal                      shelve      shelved
normal                      unshelve    refused
normal                      suppress    suppressed
normal                      unsuppress  = normal
normal                      remove      out_of_service
normal                      return      refused
unacknowledged              activate    = unacknowledged
unacknowledged              clear       returned_unacknowledged
unacknowledged              ack         acknowledged
unacknowledged              shelve      shelved
unacknowledged              unshelve    refused
unacknowledged              suppress    suppressed
unacknowledged              unsuppress  = unacknowledged
unacknowledged              remove      out_of_service
unacknowledged              return      refused
acknowledged                activate    = acknowledged
acknowledged                clear       normal
acknowledged                ack         refused
acknowledged                shelve      shelved
acknowledged                unshelve    refused
acknowledged                suppress    suppressed
acknowledged                unsuppress  = acknowledged
acknowledged                remove      out_of_service
acknowledged                return      refused
returned_unacknowledged     activate    unacknowledged
returned_unacknowledged     clear       = returned_unacknowledged
returned_unacknowledged     ack         normal
returned_unacknowledged     shelve      shelved
returned_unacknowledged     unshelve    refused
returned_unacknowledged     suppress    suppressed
returned_unacknowledged     unsuppress  = returned_unacknowledged
returned_unacknowledged     remove      out_of_service
returned_unacknowledged     return      refused
shelved                     activate    = shelved
shelved                     clear       = shelved
shelved                     ack         refused
shelved                     shelve      shelved
shelved                     unshelve    normal
shelved                     suppress    = shelved
shelved                     unsuppress  = shelved
shelved                     remove      out_of_service
shelved                     return      refused
shelved+active              clear       = shelved
shelved+active              unshelve    unacknowledged
shelved+active              remove      out_of_service
shelved+suppressed          unshelve    suppressed
shelved+suppressed          unsuppress  = shelved
suppressed                  activate    = suppressed
suppressed                  clear       = suppressed
suppressed                  ack         refused
suppressed                  shelve      shelved
suppressed                  unshelve    refused
suppressed                  suppress    = suppressed
suppressed                  unsuppress  normal
suppressed                  remove      out_of_service
suppressed                  return      refused
suppressed+active           unsuppress  unacknowledged
suppressed+active           shelve      shelved
out_of_service              activate    = out_of_service
out_of_service              clear       = out_of_service
out_of_service              ack         refused
out_of_service              shelve      refused
out_of_service              unshelve    refused
out_of_service              suppress    = out_of_service
out_of_service              unsuppress  = out_of_service
out_of_service              remove      refused
out_of_service              return      normal
out_of_service+active       return      unacknowledged
out_of_service+suppressed   return      suppressed
"""


def _engine_rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in ENGINE_TABLE.strip().splitlines():
        start, trigger, *result = line.split()
        rows.append((start, trigger, " ".join(result)))
    return rows


ENGINE_ROWS = _engine_rows()


@pytest.mark.parametrize(("start", "trigger", "result"), ENGINE_ROWS)
def test_the_engine_follows_the_table(start: str, trigger: str, result: str) -> None:
    driver = Driver()
    for step in STARTS[start]:
        driver.apply(step)
    before = driver.state
    assert before is S(start.partition("+")[0])

    if result == "refused":
        with pytest.raises(ActionRefused, match=r"alarm 'wet_well\.level\.high' cannot be"):
            driver.apply(TRIGGERS[trigger])
        assert driver.state is before
        return
    transitions = driver.apply(TRIGGERS[trigger])
    if result.startswith("= "):
        assert transitions == []
        assert driver.state is S(result[2:])
        return
    (transition,) = transitions
    assert (transition.previous, transition.state) == (before, S(result))
    assert driver.state is S(result)


def test_every_start_and_trigger_pair_of_the_plain_states_is_in_the_table() -> None:
    plain = [start for start in STARTS if "+" not in start]
    assert {(s, t) for s, t, _ in ENGINE_ROWS if s in plain} == {
        (s, t) for s in plain for t in TRIGGERS
    }


# --- any sequence keeps the lifecycle consistent ---------------------------------------------

STEPS = [*TRIGGERS.values(), "level 2.95", "level 3.05", "tick"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(STEPS), max_size=40))
def test_any_sequence_keeps_state_condition_and_journal_consistent(steps: list[str]) -> None:
    driver = Driver()
    journal: list[Transition] = []
    for step in steps:
        before = driver.state
        if step == "tick":
            driver.seconds += 300
            got = driver.engine.tick(at(driver.seconds))
        else:
            try:
                got = driver.apply(step)
            except ActionRefused:
                assert driver.state is before
                continue
        for transition in got:
            assert transition.previous is before
            before = transition.state
        journal += got
        alarm = driver.engine.get(ALARM)
        assert alarm.state is before
        if alarm.state in (S.UNACK, S.ACKED):
            assert alarm.active
        if alarm.state in (S.NORMAL, S.RTN_UNACK):
            assert not alarm.active
        if alarm.state is S.SUPPRESSED:
            assert alarm.suppressed
        assert (alarm.shelved_until is not None) == (alarm.state is S.SHELVED)
    assert all(t.ts <= at(driver.seconds) for t in journal)
