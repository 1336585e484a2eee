"""The alarm engine: samples and time in, lifecycle transitions out.

    AlarmError                base of the engine's errors
    ├── UnknownAlarm          no alarm has that id (also a KeyError)
    ├── ActionRefused         the operator's action does not apply now (also a ValueError)
    └── SnapshotError         a persisted snapshot that cannot be restored (also a ValueError)

Pure Python: no I/O, no clock, no asyncio. The service calls `process` with every poll batch,
`tick` about once a second (delays, timeouts, the starts window and shelve expiry need time to
pass, not samples), and the operator methods from the API; it journals every `Transition` the
calls return. Each call is cheap: samples are routed by tag to the rules that read them, and
`tick` visits only alarms with a timer running.

How an alarm's condition becomes a state (docs/alarms.md has the whole story):

1. Each good sample gives the rule's *raw* condition (limit with deadband, discrete, ...).
   A bad sample leaves limit and discrete conditions as they were and cancels a pending delay:
   the value is unknown, so it neither raises nor clears anything.
2. The raw condition must hold for `on_delay` (to activate) or be gone for `off_delay` (to
   clear) without interruption; then `Alarm.active` changes.
3. The change is a trigger for the lifecycle table in `states.py`, which gives the next state.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from pstg.alarms.rules import (
    STARTS_WINDOW,
    AlarmRule,
    RuleError,
    compile_rules,
    station_rules,
)
from pstg.alarms.states import (
    OPERATOR_TRIGGERS,
    AlarmState,
    Trigger,
    next_state,
    refusal,
)
from pstg.config.durations import format_duration
from pstg.config.models import AlarmConfig, StationConfig
from pstg.model import Quality, Sample, utc_now

DEFAULT_MAX_SHELVE = 8 * 3600.0
"""Seconds an alarm may be shelved at most (one shift)."""

RESTORED = "restored"
SHELVE_EXPIRED = "shelve expired"

Value = float | str | None


class AlarmError(Exception):
    """Base of the alarm engine's errors."""


class UnknownAlarm(AlarmError, KeyError):
    """No alarm has this id."""

    def __init__(self, alarm_id: str) -> None:
        super().__init__(alarm_id)
        self.alarm_id = alarm_id

    def __str__(self) -> str:  # KeyError would print the repr of its argument
        return f"no alarm {self.alarm_id!r}"


class ActionRefused(AlarmError, ValueError):
    """An acknowledge, shelve or service change that does not apply to the alarm now."""


class SnapshotError(AlarmError, ValueError):
    """A persisted snapshot with an entry the engine cannot read."""


@dataclass(frozen=True, slots=True)
class Transition:
    """One step of an alarm's lifecycle, for the alarm journal.

    `previous == state` for steps that keep the state (shelving a shelved alarm again).
    `active` and `value` are the condition and the last value seen at `ts`; `user` and
    `comment` are set for an operator's action; `reason` says what happened: a `Trigger`
    value, "shelve expired" or "restored".
    """

    alarm_id: str
    ts: datetime
    previous: AlarmState
    state: AlarmState
    active: bool
    value: Value
    user: str | None
    comment: str | None
    reason: str


@dataclass(eq=False)
class Alarm:
    """An alarm as the engine sees it now; `AlarmEngine.get` returns copies."""

    id: str
    rule: AlarmRule
    state: AlarmState = AlarmState.NORMAL
    active: bool = False
    """The condition, after the delays (it keeps being followed while masked)."""
    value: Value = None
    """The last value seen: the tag's value, the bad quality's reason, the starts in the
    window (starts_per_hour) or the seconds without a good read (comm_loss)."""
    since: datetime | None = None
    """When the alarm entered its current state."""
    active_since: datetime | None = None
    suppressed: bool = False
    """The suppression condition (`suppress_when`), remembered even while shelved."""
    shelved_until: datetime | None = None
    shelved_by: str | None = None
    user: str | None = None
    """Who acted on the alarm last (acknowledge, shelve, service change)."""
    comment: str | None = None
    last_transition_ts: datetime | None = None

    @property
    def acked(self) -> bool:
        """False while the alarm waits for an acknowledgement."""
        return not self.state.needs_ack


class _Role(Enum):
    MAIN = "main"  # the rule's tag
    FEEDBACK = "feedback"  # fail_to_start: the running feedback
    SUPPRESS = "suppress"  # suppress_when.tag
    DEVICE = "device"  # comm_loss: any tag of the device


@dataclass(eq=False, slots=True)
class _Slot:
    """One alarm and the evaluation state behind it."""

    alarm: Alarm
    rule: AlarmRule
    raw: bool = False
    """The condition before the delays (limit alarms: with the deadband's hysteresis)."""
    raw_since: datetime | None = None
    restoring: bool = False
    """Restored from a snapshot and not yet confirmed or changed by a value."""
    command: bool | None = None  # fail_to_start inputs, None while unknown
    feedback: bool | None = None
    waiting_since: datetime | None = None  # fail_to_start: commanded without feedback since
    running: bool | None = None  # starts_per_hour: the last known feedback
    starts: deque[datetime] = field(default_factory=deque)
    last_read: datetime | None = None  # comm_loss: last good read (or when watching began)


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
        if max_shelve <= 0:
            raise ValueError("max_shelve must be positive")
        self.max_shelve = max_shelve
        self._slots: dict[str, _Slot] = {}
        self._routes: dict[str, list[tuple[_Role, _Slot]]] = {}
        self._pending: dict[str, _Slot] = {}  # raw condition differs from active: a delay runs
        self._waiting: dict[str, _Slot] = {}  # fail_to_start timers running
        self._windows: dict[str, _Slot] = {}  # starts_per_hour windows holding starts
        self._shelved: dict[str, _Slot] = {}
        self._comm: list[_Slot] = []
        for rule in _rules_of(rules):
            if rule.id in self._slots:
                raise RuleError(f"two alarms have the id {rule.id!r}")
            slot = _Slot(Alarm(rule.id, rule), rule)
            self._slots[rule.id] = slot
            self._route(slot)

    def _route(self, slot: _Slot) -> None:
        rule = slot.rule
        routes: list[tuple[str, _Role]] = []
        if rule.kind == "comm_loss":
            if rule.device_enabled:
                self._comm.append(slot)
                routes += [(tag, _Role.DEVICE) for tag in sorted(rule.device_tags)]
        elif rule.tag is not None:
            routes.append((rule.tag, _Role.MAIN))
        if rule.feedback is not None:
            routes.append((rule.feedback, _Role.FEEDBACK))
        if rule.suppress_tag is not None:
            routes.append((rule.suppress_tag, _Role.SUPPRESS))
        for tag, role in routes:
            self._routes.setdefault(tag, []).append((role, slot))

    # --- reading ------------------------------------------------------------------------

    def watched_tags(self) -> frozenset[str]:
        """The tags whose readings `process` looks at (values, feedback, suppression, and for
        comm_loss every tag of the device)."""
        return frozenset(self._routes)

    def alarms(self) -> list[Alarm]:
        """Every alarm (copies), in config order."""
        return [copy.copy(slot.alarm) for slot in self._slots.values()]

    def get(self, alarm_id: str) -> Alarm:
        """A copy of one alarm; UnknownAlarm if there is none with that id."""
        return copy.copy(self._slot(alarm_id).alarm)

    def _slot(self, alarm_id: str) -> _Slot:
        try:
            return self._slots[alarm_id]
        except KeyError:
            raise UnknownAlarm(alarm_id) from None

    # --- samples and time ---------------------------------------------------------------

    def process(self, samples: Iterable[Sample]) -> list[Transition]:
        """Feed one poll batch; the transitions it causes, in sample order."""
        out: list[Transition] = []
        routes = self._routes
        for sample in samples:
            targets = routes.get(sample.tag)
            if targets is None:
                continue
            for role, slot in targets:
                if role is _Role.MAIN:
                    self._on_value(slot, sample, out)
                elif role is _Role.DEVICE:
                    self._on_device_read(slot, sample, out)
                elif role is _Role.FEEDBACK:
                    self._on_fail_to_start_input(slot, sample, out, feedback=True)
                else:
                    self._on_suppress_value(slot, sample, out)
        return out

    def tick(self, now: datetime) -> list[Transition]:
        """Let time pass to `now`: delays, comm loss, fail-to-start, the starts window and
        shelve expiry. Call it about once a second; it visits only alarms with a timer."""
        out: list[Transition] = []
        for slot in self._comm:
            self._check_comm(slot, now, out)
        for slot in list(self._waiting.values()):
            self._check_waiting(slot, now, out)
        for slot in list(self._windows.values()):
            self._count_starts(slot, now, out)
        for slot in list(self._pending.values()):
            self._settle(slot, now, out)
        for slot in list(self._shelved.values()):
            until = slot.alarm.shelved_until
            if until is not None and now >= until:
                self._unshelve(slot, None, None, now, out, reason=SHELVE_EXPIRED)
        return out

    def _on_value(self, slot: _Slot, sample: Sample, out: list[Transition]) -> None:
        rule = slot.rule
        kind = rule.kind
        if kind == "fail_to_start":
            self._on_fail_to_start_input(slot, sample, out, feedback=False)
            return
        ts = sample.ts
        if kind == "bad_quality":
            bad = sample.quality is Quality.BAD
            slot.alarm.value = sample.reason.value if bad else sample.value
            self._evaluate(slot, bad, ts, ts, out)
            return
        value = sample.value
        if sample.quality is Quality.BAD or value is None or isinstance(value, str):
            if kind != "starts_per_hour":  # it keeps the last known feedback instead
                self._forget_change(slot)
            return
        if kind == "starts_per_hour":
            self._on_running(slot, value != 0, ts, out)
            return
        alarm = slot.alarm
        alarm.value = value
        if rule.is_limit:
            # The deadband widens the condition of an active alarm only: it activates at the
            # limit and clears past limit ∓ deadband.
            raw = rule.limit_condition(value, alarm.active)
        else:
            raw = rule.discrete_condition(value)
        self._evaluate(slot, raw, ts, ts, out)

    def _forget_change(self, slot: _Slot) -> None:
        """The value is unknown: keep the state, drop a change that was waiting for its delay."""
        slot.raw = slot.alarm.active
        self._pending.pop(slot.alarm.id, None)

    def _on_device_read(self, slot: _Slot, sample: Sample, out: list[Transition]) -> None:
        ts = sample.ts
        if sample.quality is not Quality.BAD:
            slot.last_read = ts
            if slot.raw or slot.alarm.active or slot.restoring:
                slot.alarm.value = 0.0
                self._evaluate(slot, False, ts, ts, out)
        else:
            self._check_comm(slot, ts, out)

    def _check_comm(self, slot: _Slot, now: datetime, out: list[Transition]) -> None:
        if slot.last_read is None:
            slot.last_read = now  # the device has had no chance to answer before now
            return
        if slot.raw:
            return
        silent = now - slot.last_read
        if silent >= slot.rule.timeout:
            slot.alarm.value = round(silent.total_seconds(), 3)
            self._evaluate(slot, True, slot.last_read + slot.rule.timeout, now, out)

    def _on_fail_to_start_input(
        self, slot: _Slot, sample: Sample, out: list[Transition], *, feedback: bool
    ) -> None:
        value = sample.value
        known = sample.quality is not Quality.BAD and isinstance(value, float | int)
        state = bool(value) if known else None
        if feedback:
            slot.feedback = state
        else:
            slot.command = state
            if known:
                slot.alarm.value = value
        if slot.command is None or slot.feedback is None:
            # An input is unknown: nothing can be concluded, nor should a timer run on.
            slot.waiting_since = None
            self._waiting.pop(slot.alarm.id, None)
            self._forget_change(slot)
            return
        ts = sample.ts
        if slot.command and not slot.feedback:
            if slot.waiting_since is None:
                slot.waiting_since = ts
                self._waiting[slot.alarm.id] = slot
            self._check_waiting(slot, ts, out)
        else:
            slot.waiting_since = None
            self._waiting.pop(slot.alarm.id, None)
            self._evaluate(slot, False, ts, ts, out)

    def _check_waiting(self, slot: _Slot, now: datetime, out: list[Transition]) -> None:
        since = slot.waiting_since
        if since is None:
            self._waiting.pop(slot.alarm.id, None)
            return
        if now - since >= slot.rule.timeout:
            self._waiting.pop(slot.alarm.id, None)
            self._evaluate(slot, True, since + slot.rule.timeout, now, out)

    def _on_running(self, slot: _Slot, running: bool, ts: datetime, out: list[Transition]) -> None:
        if running and slot.running is False:
            slot.starts.append(ts)
            self._windows[slot.alarm.id] = slot
        slot.running = running
        self._count_starts(slot, ts, out)

    def _count_starts(self, slot: _Slot, now: datetime, out: list[Transition]) -> None:
        starts = slot.starts
        horizon = now - STARTS_WINDOW
        while starts and starts[0] <= horizon:
            starts.popleft()
        if not starts:
            self._windows.pop(slot.alarm.id, None)
        slot.alarm.value = float(len(starts))
        limit = slot.rule.limit if slot.rule.limit is not None else 0.0
        self._evaluate(slot, len(starts) > limit, now, now, out)

    def _on_suppress_value(self, slot: _Slot, sample: Sample, out: list[Transition]) -> None:
        value = sample.value
        if sample.quality is Quality.BAD or value is None or isinstance(value, str):
            return  # unknown: suppression stays as it is
        suppressed = value == slot.rule.suppress_value
        alarm = slot.alarm
        if suppressed == alarm.suppressed:
            return
        alarm.suppressed = suppressed
        trigger = Trigger.SUPPRESS if suppressed else Trigger.UNSUPPRESS
        self._step(slot, trigger, sample.ts, out)

    # --- condition -> active -> state ----------------------------------------------------

    def _evaluate(
        self, slot: _Slot, raw: bool, since: datetime, now: datetime, out: list[Transition]
    ) -> None:
        """The raw condition is `raw` (since `since`); apply the delays as of `now`."""
        if raw != slot.raw or slot.raw_since is None:
            slot.raw = raw
            slot.raw_since = since
        if raw == slot.alarm.active:
            slot.restoring = False  # a restored state confirmed by a value
            self._pending.pop(slot.alarm.id, None)
        else:
            self._settle(slot, now, out)

    def _settle(self, slot: _Slot, now: datetime, out: list[Transition]) -> None:
        alarm = slot.alarm
        if slot.raw == alarm.active:
            self._pending.pop(alarm.id, None)
            return
        delay = slot.rule.on_delay if slot.raw else slot.rule.off_delay
        since = slot.raw_since if slot.raw_since is not None else now
        if now - since < delay:
            self._pending[alarm.id] = slot
            return
        self._pending.pop(alarm.id, None)
        alarm.active = slot.raw
        alarm.active_since = now if slot.raw else None
        reason = RESTORED if slot.restoring else None
        slot.restoring = False
        self._step(slot, Trigger.ACTIVATE if slot.raw else Trigger.CLEAR, now, out, reason=reason)

    def _step(
        self,
        slot: _Slot,
        trigger: Trigger,
        now: datetime,
        out: list[Transition],
        *,
        user: str | None = None,
        comment: str | None = None,
        reason: str | None = None,
    ) -> Transition | None:
        """Apply `trigger` through the lifecycle table; the transition, or None if none."""
        alarm = slot.alarm
        state = next_state(alarm.state, trigger, active=alarm.active, suppressed=alarm.suppressed)
        if state is None:
            if trigger in OPERATOR_TRIGGERS:
                raise ActionRefused(f"alarm {alarm.id!r} {refusal(alarm.state, trigger)}")
            return None  # a masked alarm follows its condition silently
        transition = Transition(
            alarm.id,
            now,
            alarm.state,
            state,
            alarm.active,
            alarm.value,
            user,
            comment,
            reason or trigger.value,
        )
        if state is not alarm.state:
            alarm.since = now
        if alarm.state is AlarmState.SHELVED and state is not AlarmState.SHELVED:
            alarm.shelved_until = alarm.shelved_by = None
            self._shelved.pop(alarm.id, None)
        alarm.state = state
        alarm.last_transition_ts = now
        if user is not None or comment is not None:
            alarm.user, alarm.comment = user, comment
        out.append(transition)
        return transition

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
        if not 0 < duration <= self.max_shelve:
            raise ActionRefused(
                f"shelve duration {format_duration(max(duration, 0.0))} is not allowed: "
                f"it must be more than 0 and at most {format_duration(self.max_shelve)}"
            )
        now = now if now is not None else utc_now()
        slot = self._slot(alarm_id)
        transition = self._act(alarm_id, Trigger.SHELVE, user, comment, now)
        slot.alarm.shelved_until = now + timedelta(seconds=duration)
        slot.alarm.shelved_by = user
        self._shelved[alarm_id] = slot
        return transition

    def unshelve(
        self,
        alarm_id: str,
        user: str | None,
        comment: str | None = None,
        now: datetime | None = None,
    ) -> Transition:
        """End a shelve early; the alarm is re-evaluated (active: unacknowledged)."""
        slot = self._slot(alarm_id)
        out: list[Transition] = []
        self._unshelve(slot, user, comment, now if now is not None else utc_now(), out)
        return out[0]

    def _unshelve(
        self,
        slot: _Slot,
        user: str | None,
        comment: str | None,
        now: datetime,
        out: list[Transition],
        *,
        reason: str | None = None,
    ) -> None:
        self._step(slot, Trigger.UNSHELVE, now, out, user=user, comment=comment, reason=reason)

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
        slot = self._slot(alarm_id)
        out: list[Transition] = []
        at = now if now is not None else utc_now()
        transition = self._step(slot, trigger, at, out, user=user, comment=comment)
        assert transition is not None  # operator triggers raise instead
        return transition

    # --- persistence --------------------------------------------------------------------

    def snapshot(self) -> list[dict[str, Any]]:
        """Every alarm's lifecycle as JSON-ready dicts, for `restore` after a restart."""
        return [_dump(slot) for slot in self._slots.values()]

    def restore(self, snapshot: Iterable[dict[str, Any]], now: datetime | None = None) -> None:
        """Bring back states saved by `snapshot`, before the first `process`.

        Entries for alarms no longer configured (or now of another kind) are skipped. An
        alarm that was active stays active until a value says otherwise; the transitions
        that such first values cause carry the reason "restored". Shelves that ran out while
        the service was down end at the first `tick`. `now` is when the restore happens.
        """
        at = now if now is not None else utc_now()
        for entry in snapshot:
            slot = self._slots.get(str(entry.get("id")))
            if slot is None or entry.get("kind") != slot.rule.kind:
                continue
            try:
                _load(slot, entry, at)
            except (KeyError, TypeError, ValueError) as exc:
                raise SnapshotError(f"alarm {slot.alarm.id!r}: unreadable snapshot: {exc}") from exc
            self._pending.pop(slot.alarm.id, None)
            self._waiting.pop(slot.alarm.id, None)
            if slot.alarm.state is AlarmState.SHELVED:
                self._shelved[slot.alarm.id] = slot
            else:
                self._shelved.pop(slot.alarm.id, None)
            if slot.starts:
                self._windows[slot.alarm.id] = slot


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


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_time(value: object) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} has no timezone")
    return moment


def _dump(slot: _Slot) -> dict[str, Any]:
    alarm = slot.alarm
    return {
        "id": alarm.id,
        "kind": slot.rule.kind,
        "state": alarm.state.value,
        "active": alarm.active,
        "value": alarm.value,
        "since": _time(alarm.since),
        "active_since": _time(alarm.active_since),
        "suppressed": alarm.suppressed,
        "shelved_until": _time(alarm.shelved_until),
        "shelved_by": alarm.shelved_by,
        "user": alarm.user,
        "comment": alarm.comment,
        "last_transition_ts": _time(alarm.last_transition_ts),
        "starts": [ts.isoformat() for ts in slot.starts],
    }


def _load(slot: _Slot, entry: dict[str, Any], now: datetime) -> None:
    alarm = slot.alarm
    state = AlarmState(entry["state"])
    active = bool(entry.get("active", False))
    if state in (AlarmState.UNACK, AlarmState.ACKED):
        active = True  # the lifecycle states say what the condition was
    elif state in (AlarmState.NORMAL, AlarmState.RTN_UNACK):
        active = False
    value = entry.get("value")
    alarm.state = state
    alarm.active = active
    alarm.value = value if isinstance(value, float | int | str) else None
    alarm.since = _parse_time(entry.get("since"))
    alarm.active_since = _parse_time(entry.get("active_since")) if active else None
    alarm.suppressed = bool(entry.get("suppressed")) or state is AlarmState.SUPPRESSED
    alarm.shelved_until = _parse_time(entry.get("shelved_until"))
    alarm.shelved_by = entry.get("shelved_by")
    alarm.user = entry.get("user")
    alarm.comment = entry.get("comment")
    alarm.last_transition_ts = _parse_time(entry.get("last_transition_ts"))
    if state is AlarmState.SHELVED and alarm.shelved_until is None:
        raise ValueError("shelved without shelved_until")
    if state is not AlarmState.SHELVED:
        alarm.shelved_until = alarm.shelved_by = None
    slot.raw = active
    slot.raw_since = now
    slot.restoring = True
    slot.waiting_since = None
    times = (_parse_time(ts) for ts in entry.get("starts", ()))
    slot.starts = deque(ts for ts in times if ts is not None)
