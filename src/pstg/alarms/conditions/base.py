"""What every rule kind's condition has in common, and the timers conditions arm.

A `Condition` is one alarm's evaluator: it says which tags it reads (`inputs`), turns their
samples (and, if it arms a timer, the passing of time) into the alarm's *raw* condition, and
hands that to the delays (`_evaluate`). One subclass per rule kind, registered by kind in
`conditions/__init__.py`; a new kind is a new module there and one line in the registry.

A condition that needs time to pass (a timeout, a sliding window) arms itself in `Timers`;
`AlarmEngine.tick` calls `tick` on armed conditions only, kind by kind in registry order.

A condition that follows the outcome of operated commands (command_failed) names the commanded
tags in `commands`; `AlarmEngine.command_result` hands it each result for those tags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Final

from pstg.alarms.delays import Delayed, Delays
from pstg.alarms.index import Handler
from pstg.alarms.model import Alarm, Transition
from pstg.alarms.rules import AlarmRule
from pstg.model import Quality, Sample

COMMAND_STATES: Final = frozenset({"confirmed", "not_confirmed", "failed", "device_refused"})
"""The outcomes of an operated command, as the command service reports them."""

CommandHandler = Callable[[str, float | None, datetime, list[Transition]], None]
"""Takes one command result (state, the value the read-back had to reach, when); appends the
transitions it causes to the list."""


class Condition(Delayed):
    """One alarm's condition, from the samples of the tags it reads; see the module docstring."""

    __slots__ = ("_delays", "_timers")

    def __init__(self, alarm: Alarm, rule: AlarmRule, delays: Delays, timers: Timers) -> None:
        super().__init__(alarm, rule)
        self._delays = delays
        self._timers = timers

    def inputs(self) -> list[tuple[str, Handler]]:
        """The tags this condition reads, each with the method its samples go to.

        By default the rule's tag, to `on_value`.
        """
        return [(self.rule.tag, self.on_value)] if self.rule.tag is not None else []

    def on_value(self, sample: Sample, out: list[Transition]) -> None:
        """A sample of the rule's tag."""
        raise NotImplementedError

    def commands(self) -> list[tuple[str, CommandHandler]]:
        """The commanded tags whose command results this condition reads, each with the
        method the results go to. By default none."""
        return []

    def tick(self, now: datetime, out: list[Transition]) -> None:
        """Time has passed to `now`; called only while the condition is armed in `Timers`."""

    def save(self) -> dict[str, Any]:
        """Evaluation state worth keeping over a restart, as JSON-ready snapshot fields."""
        return {}

    def restore(self, entry: dict[str, Any], now: datetime) -> None:
        """Resume from a snapshot `entry`, whose alarm fields are already loaded.

        The loaded state holds until a value confirms or changes it; pending delays start
        over. Raises KeyError, TypeError or ValueError for an entry it cannot read.
        """
        self.raw = self.alarm.active
        self.raw_since = now
        self.restoring = True
        self._delays.cancel(self)

    def _evaluate(self, raw: bool, since: datetime, now: datetime, out: list[Transition]) -> None:
        """The raw condition is `raw` since `since`: let the delays decide as of `now`."""
        self._delays.evaluate(self, raw, since, now, out)

    def _forget_change(self) -> None:
        """The value is unknown: keep the alarm as it is and drop a pending change."""
        self._delays.forget_change(self)


def known_number(sample: Sample) -> float | None:
    """The sample's value if it is a good or uncertain number, else None (unknown)."""
    value = sample.value
    if sample.quality is Quality.BAD or value is None or isinstance(value, str):
        return None
    return value


class Timers:
    """The conditions waiting for time to pass, grouped by kind.

    The groups are visited in the order of `kinds` (the registry's), and each group in the
    order its conditions were armed, so the transitions of one tick come in a fixed order.
    """

    def __init__(self, kinds: Iterable[type[Condition]]) -> None:
        self._groups: dict[type[Condition], dict[str, Condition]] = {kind: {} for kind in kinds}

    def arm(self, condition: Condition) -> None:
        """Call `condition.tick` from now on (arming an armed condition changes nothing)."""
        self._groups[type(condition)][condition.alarm.id] = condition

    def disarm(self, condition: Condition) -> None:
        """Stop calling `condition.tick`."""
        self._groups[type(condition)].pop(condition.alarm.id, None)

    def tick(self, now: datetime, out: list[Transition]) -> None:
        """Let every armed condition see the time `now`."""
        for group in self._groups.values():
            for condition in list(group.values()):
                condition.tick(now, out)
