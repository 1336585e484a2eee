"""The alarm engine: samples and time in, lifecycle transitions out.

Pure Python: no I/O, no clock, no asyncio. The service calls `process` with every poll batch,
`tick` about once a second (delays, timeouts, the starts window and shelve expiry need time to
pass, not samples), `command_result` with the outcome of every operated command, and the
operator methods from the API; it journals every `Transition` the calls return. Each call is
cheap: samples are routed by tag to the rules that read them, and `tick` visits only alarms
with a timer running.

How an alarm's condition becomes a state (docs/alarms.md has the whole story), and where each
step lives:

1. `conditions/`: each good sample gives the rule's *raw* condition (limit with deadband,
   discrete, ...), one module per rule kind. A bad sample leaves limit and discrete
   conditions as they were and cancels a pending delay: the value is unknown, so it neither
   raises nor clears anything.
2. `delays.py`: the raw condition must hold for `on_delay` (to activate) or be gone for
   `off_delay` (to clear) without interruption; then `Alarm.active` changes.
3. `lifecycle.py`: the change is a trigger for the lifecycle table in `states.py`, which gives
   the next state; the operator's actions and `suppress_when` (`suppression.py`) are triggers
   too.

This module wires them: it builds a condition per rule, indexes them by tag (`index.py`),
and saves and restores them (`snapshot.py`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pstg.alarms.conditions import (
    COMMAND_STATES,
    CommandHandler,
    Condition,
    NotificationFailedCondition,
    condition_for,
    new_timers,
)
from pstg.alarms.delays import RESTORED, Delays
from pstg.alarms.errors import ActionRefused, AlarmError, SnapshotError, UnknownAlarm
from pstg.alarms.index import TagIndex
from pstg.alarms.lifecycle import DEFAULT_MAX_SHELVE, SHELVE_EXPIRED, Lifecycle
from pstg.alarms.model import Alarm, Transition, Value
from pstg.alarms.rules import AlarmRule, RuleError, compile_rules, station_rules
from pstg.alarms.snapshot import dump, load
from pstg.alarms.states import Trigger
from pstg.alarms.suppression import Suppression
from pstg.config.models import AlarmConfig, StationConfig
from pstg.model import Sample, utc_now

__all__ = [
    "COMMAND_STATES",
    "DEFAULT_MAX_SHELVE",
    "RESTORED",
    "SHELVE_EXPIRED",
    "ActionRefused",
    "Alarm",
    "AlarmEngine",
    "AlarmError",
    "SnapshotError",
    "Transition",
    "UnknownAlarm",
    "Value",
]


class AlarmEngine:
    """The alarms of a station and their ISA-18.2 lifecycle; see the module docstring."""

    def __init__(
        self,
        rules: Sequence[AlarmConfig] | Sequence[AlarmRule] | StationConfig,
        *,
        max_shelve: float = DEFAULT_MAX_SHELVE,
    ) -> None:
        """Rules from a whole station, from alarm configs, or compiled.

        Only a StationConfig (or rules compiled with `station_rules`) tells comm_loss rules
        which tags their device delivers. RuleError when two rules share an id.
        """
        self._lifecycle = Lifecycle(max_shelve)
        self._delays = Delays(self._lifecycle)
        self._timers = new_timers()
        self._index = TagIndex()
        self._conditions: dict[str, Condition] = {}
        self._commands: dict[str, list[CommandHandler]] = {}  # commanded tag -> its rules
        for rule in _rules_of(rules):
            if rule.id in self._conditions:
                raise RuleError(f"two alarms have the id {rule.id!r}")
            condition = condition_for(rule, self._delays, self._timers)
            self._conditions[rule.id] = condition
            for tag, handler in condition.inputs():
                self._index.add(tag, handler)
            for tag, on_command in condition.commands():
                self._commands.setdefault(tag, []).append(on_command)
            if rule.suppress_tag is not None:
                suppression = Suppression(condition.alarm, rule.suppress_value, self._lifecycle)
                self._index.add(rule.suppress_tag, suppression.on_value)

    @property
    def max_shelve(self) -> float:
        """Seconds an alarm may be shelved at most."""
        return self._lifecycle.max_shelve

    # --- reading ------------------------------------------------------------------------

    def watched_tags(self) -> frozenset[str]:
        """The tags whose readings `process` looks at (values, feedback, suppression, and for
        comm_loss every tag of the device)."""
        return self._index.tags()

    def alarms(self) -> list[Alarm]:
        """Every alarm (copies), in config order."""
        return [copy.copy(condition.alarm) for condition in self._conditions.values()]

    def get(self, alarm_id: str) -> Alarm:
        """A copy of one alarm; UnknownAlarm if there is none with that id."""
        return copy.copy(self._alarm(alarm_id))

    def _alarm(self, alarm_id: str) -> Alarm:
        try:
            return self._conditions[alarm_id].alarm
        except KeyError:
            raise UnknownAlarm(alarm_id) from None

    # --- samples and time ---------------------------------------------------------------

    def process(self, samples: Iterable[Sample]) -> list[Transition]:
        """Feed one poll batch; the transitions it causes, in sample order."""
        return self._index.dispatch(samples)

    def command_result(
        self, tag: str, state: str, value: float | None, ts: datetime
    ) -> list[Transition]:
        """The outcome of a command operated on `tag` at `ts`; the transitions it causes.

        `state` is one of `COMMAND_STATES` (confirmed, not_confirmed, failed, device_refused;
        ValueError for any other) and `value` the value the read-back tag had to reach (the
        value commanded, or the read-back's `equals`). Only command_failed rules on `tag` read
        it; a tag without one gives no transitions.
        """
        if state not in COMMAND_STATES:
            known = ", ".join(sorted(COMMAND_STATES))
            raise ValueError(f"unknown command state {state!r} (expected one of {known})")
        out: list[Transition] = []
        for on_command in self._commands.get(tag, ()):
            on_command(state, value, ts, out)
        return out

    def notification_result(
        self, key: str, delivered: bool, error: str, ts: datetime
    ) -> list[Transition]:
        """The end of a notification's delivery to `key` (`channel:recipient`) at `ts`: arrived,
        or failed for good with `error`; the transitions of the notification_failed alarms."""
        out: list[Transition] = []
        for condition in self._conditions.values():
            if isinstance(condition, NotificationFailedCondition):
                condition.on_delivery(key, delivered, error, ts, out)
        return out

    def tick(self, now: datetime) -> list[Transition]:
        """Let time pass to `now`: delays, comm loss, fail-to-start, the starts window and
        shelve expiry. Call it about once a second; it visits only alarms with a timer."""
        out: list[Transition] = []
        self._timers.tick(now, out)
        self._delays.tick(now, out)
        self._lifecycle.expire_shelves(now, out)
        return out

    # --- operator actions ---------------------------------------------------------------

    def acknowledge(
        self,
        alarm_id: str,
        user: str | None,
        comment: str | None = None,
        now: datetime | None = None,
    ) -> Transition:
        """Acknowledge an unacknowledged alarm; ActionRefused in any other state."""
        return self._act(alarm_id, Trigger.ACKNOWLEDGE, user, comment, now)

    def shelve(
        self,
        alarm_id: str,
        user: str | None,
        comment: str | None,
        duration: float,
        now: datetime | None = None,
    ) -> Transition:
        """Shelve for `duration` seconds (at most `max_shelve`); shelving again re-times it."""
        self._lifecycle.check_shelve_duration(duration)  # refused before the id is looked up
        at = now if now is not None else utc_now()
        return self._lifecycle.shelve(self._alarm(alarm_id), user, comment, duration, at)

    def unshelve(
        self,
        alarm_id: str,
        user: str | None,
        comment: str | None = None,
        now: datetime | None = None,
    ) -> Transition:
        """End a shelve early; the alarm is re-evaluated (active: unacknowledged)."""
        return self._act(alarm_id, Trigger.UNSHELVE, user, comment, now)

    def set_out_of_service(
        self,
        alarm_id: str,
        user: str | None,
        comment: str | None,
        in_service: bool,
        now: datetime | None = None,
    ) -> Transition:
        """Take an alarm out of service (ends a shelve), or return it (`in_service=True`)."""
        trigger = Trigger.RETURN if in_service else Trigger.REMOVE
        return self._act(alarm_id, trigger, user, comment, now)

    def _act(
        self,
        alarm_id: str,
        trigger: Trigger,
        user: str | None,
        comment: str | None,
        now: datetime | None,
    ) -> Transition:
        alarm = self._alarm(alarm_id)
        at = now if now is not None else utc_now()
        return self._lifecycle.act(alarm, trigger, user, comment, at)

    # --- persistence --------------------------------------------------------------------

    def snapshot(self) -> list[dict[str, Any]]:
        """Every alarm's lifecycle as JSON-ready dicts, for `restore` after a restart."""
        return [
            {**dump(condition.alarm), **condition.save()} for condition in self._conditions.values()
        ]

    def restore(self, snapshot: Iterable[dict[str, Any]], now: datetime | None = None) -> None:
        """Bring back states saved by `snapshot`, before the first `process`.

        Entries for alarms no longer configured (or now of another kind) are skipped. An
        alarm that was active stays active until a value says otherwise; the transitions
        that such first values cause carry the reason "restored". Shelves that ran out while
        the service was down end at the first `tick`. `now` is when the restore happens.
        """
        at = now if now is not None else utc_now()
        for entry in snapshot:
            condition = self._conditions.get(str(entry.get("id")))
            if condition is None or entry.get("kind") != condition.rule.kind:
                continue
            alarm = condition.alarm
            try:
                load(alarm, entry)
                condition.restore(entry, at)
            except (KeyError, TypeError, ValueError) as exc:
                raise SnapshotError(f"alarm {alarm.id!r}: unreadable snapshot: {exc}") from exc
            self._lifecycle.restored(alarm)


def _rules_of(
    rules: Sequence[AlarmConfig] | Sequence[AlarmRule] | StationConfig,
) -> list[AlarmRule]:
    if isinstance(rules, StationConfig):
        return station_rules(rules)
    compiled = [rule for rule in rules if isinstance(rule, AlarmRule)]
    configs = [rule for rule in rules if isinstance(rule, AlarmConfig)]
    if compiled and configs:
        raise TypeError("give alarm configs or compiled rules, not a mix of both")
    return compiled or compile_rules(configs)
