"""Alarms in the running service: the engine fed by the poller, its journal and states stored
off the polling path, and operator actions that are journaled and audited atomically.

- `process()` runs the engine on each poll batch (cheap, in the event loop) and queues the
  transitions; a flusher writes them to `alarm_journal`, the touched alarms' states to
  `alarm_states` and an `alarm` event per transition, every half second in a worker thread,
  so a flood of transitions never slows polling. `command_result()` does the same with the
  outcome of each operated command (command_failed alarms).
- `act()` (acknowledge, shelve, unshelve, out of service) changes the engine, then writes the
  transition, the new state and the audit row in one transaction; if that fails, the alarm is
  put back as it was and the action is refused: nothing happens without its audit record.
- `acknowledge_many()` acknowledges a selection (or every alarm waiting for it) the same way:
  one transaction with a journal row and an audit row per alarm, or nothing at all.
- At start, `load()` restores the states saved before; the engine re-evaluates them on the
  first values.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.alarms.engine import AlarmEngine
from pstg.alarms.errors import ActionRefused, UnknownAlarm
from pstg.alarms.model import Transition
from pstg.alarms.tables import alarm_journal, alarm_states
from pstg.audit import Actor, AuditEntry, record
from pstg.model import Event, EventKind, Sample, utc_now
from pstg.storage import events
from pstg.storage.rows import from_micros, to_micros

log = logging.getLogger("pstg.alarms")

FLUSH_INTERVAL = 0.5
TICK_INTERVAL = 1.0

Action = Literal["acknowledge", "shelve", "unshelve", "remove", "return"]


@dataclass(frozen=True)
class _Records:
    """Rows to write for some transitions, prepared in the event loop."""

    journal: list[dict[str, Any]]
    events: list[dict[str, Any]]
    states: list[dict[str, Any]]
    alarm_ids: set[str]


class ActionFailed(RuntimeError):
    """The action could not be recorded (database down): it did not happen."""


@dataclass(frozen=True)
class BulkAck:
    """What a bulk acknowledgement did: the transitions, and the ids refused with the reason
    (unknown, or not waiting for an acknowledgement), in the order asked."""

    acknowledged: list[Transition]
    refused: list[tuple[str, UnknownAlarm | ActionRefused]]


class AlarmService:
    def __init__(
        self,
        engine: Engine,
        station_id: int,
        alarms: AlarmEngine,
        *,
        on_stored: Callable[[Sequence[Event]], None] | None = None,
    ) -> None:
        """`on_stored` is told of the `alarm` events once their transitions are stored
        (marked journaled: they are in the events table already), e.g. to log them."""
        self.db = engine
        self.station_id = station_id
        self.engine = alarms
        self.on_stored = on_stored
        self._pending: list[Transition] = []
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.written = 0
        self.write_failures = 0
        self.changes = 0
        """Transitions so far (stored or not, undone actions too): a reader that wants to know
        whether any alarm changed state since it last looked compares this number."""

    # --- start and stop --------------------------------------------------------------------

    def load(self, now: datetime | None = None) -> int:
        """Restore the saved states (blocking: call before the poller starts)."""
        with self.db.connect() as connection:
            rows = connection.execute(
                sa.select(alarm_states.c.snapshot).where(
                    alarm_states.c.station_id == self.station_id
                )
            ).scalars()
            snapshot = [row for row in rows if isinstance(row, dict)]
        self.engine.restore(snapshot, now)
        return len(snapshot)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="alarm service")

    async def close(self) -> None:
        self._closing = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.flush()

    async def _run(self) -> None:
        next_tick = 0.0
        loop = asyncio.get_running_loop()
        while not self._closing:
            await asyncio.sleep(FLUSH_INTERVAL)
            if loop.time() >= next_tick:
                next_tick = loop.time() + TICK_INTERVAL
                self._queue(self.engine.tick(utc_now()))
            await self.flush()

    # --- the poller's side ------------------------------------------------------------------

    def process(self, samples: Iterable[Sample]) -> None:
        self._queue(self.engine.process(samples))

    def command_result(
        self, tag: str, state: str, value: float | None, ts: datetime
    ) -> list[Transition]:
        """The outcome of a command operated on `tag` (see `AlarmEngine.command_result`);
        its transitions are queued for the flusher like those of a poll batch, and returned.
        Call it in the event loop, which is where the engine changes."""
        transitions = self.engine.command_result(tag, state, value, ts)
        self._queue(transitions)
        return transitions

    def _queue(self, transitions: list[Transition]) -> None:
        if transitions:
            self._pending.extend(transitions)
            self.changes += len(transitions)

    def notification_result(
        self, key: str, delivered: bool, error: str, ts: datetime
    ) -> list[Transition]:
        """The end of a notification's delivery (see `AlarmEngine.notification_result`);
        queued for the flusher like a poll batch's transitions. Call it in the event loop."""
        transitions = self.engine.notification_result(key, delivered, error, ts)
        self._queue(transitions)
        return transitions

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        # Read the engine here, in the event loop that changes it; the thread only writes.
        records = self._records(batch)
        try:
            await asyncio.to_thread(self._store, records)
        except Exception as exc:  # the database is away: keep them for the next attempt
            self.write_failures += 1
            self._pending[:0] = batch
            log.warning("alarm journal not written (%s); %d transition(s) kept", exc, len(batch))
            return
        self.written += len(batch)
        self._stored(records)

    def _stored(self, records: _Records) -> None:
        # Every path that changes alarms ends here or in `_queue`: the live stream's readers
        # see the change whichever way it came (an operator's action, a bulk one, a poll).
        self.changes += 1
        if self.on_stored is None:
            return
        self.on_stored(
            [
                Event(from_micros(row["ts"]), EventKind.ALARM, row["source"], row["message"],
                      {key: str(value) for key, value in row["attributes"].items()
                       if value is not None}, journaled=True)
                for row in records.events
            ]
        )  # fmt: skip

    def _records(self, batch: Sequence[Transition]) -> _Records:
        """The journal, event and state rows of `batch`, from the engine as it is now."""
        touched = {t.alarm_id for t in batch}
        rules = {alarm_id: self.engine.get(alarm_id).rule for alarm_id in touched}
        journal_rows = [_journal_row(self.station_id, t, rules[t.alarm_id]) for t in batch]
        event_rows = [
            events.row(
                ts=row["ts"],
                station_id=self.station_id,
                kind=EventKind.ALARM.value,
                source=row["alarm_id"],
                message=f"{row['previous']} -> {row['state']} ({row['reason']}): {row['message']}",
                # What a notification needs to know of the step, without the journal.
                attributes={
                    "priority": row["priority"],
                    "user": row["username"],
                    "previous": row["previous"],
                    "state": row["state"],
                    "reason": row["reason"],
                    "value": row["value"],
                },
            )
            for row in journal_rows
        ]
        now = to_micros(utc_now())
        state_rows = [
            {"station_id": self.station_id, "alarm_id": entry["id"], "snapshot": entry,
             "updated_at": now}
            for entry in self.engine.snapshot()
            if entry["id"] in touched
        ]  # fmt: skip
        return _Records(journal_rows, event_rows, state_rows, touched)

    def _store(self, records: _Records) -> None:
        with self.db.begin() as connection:
            self._write(connection, records)

    def _write(self, connection: Connection, records: _Records) -> None:
        connection.execute(sa.insert(alarm_journal), records.journal)
        events.insert_events(connection, records.events)
        connection.execute(
            alarm_states.delete().where(
                alarm_states.c.station_id == self.station_id,
                alarm_states.c.alarm_id.in_(records.alarm_ids),
            )
        )
        connection.execute(sa.insert(alarm_states), records.states)

    # --- operators ----------------------------------------------------------------------------

    def act(
        self,
        action: Action,
        alarm_id: str,
        actor: Actor,
        comment: str | None,
        duration: float | None = None,
    ) -> Transition:
        """Do an operator action, journaled and audited in one transaction (blocking, short).

        Raises UnknownAlarm / ActionRefused (nothing changed) or ActionFailed (could not be
        recorded, so undone)."""
        before = [entry for entry in self.engine.snapshot() if entry["id"] == alarm_id]
        now = utc_now()
        user = actor.name
        if action == "acknowledge":
            transition = self.engine.acknowledge(alarm_id, user, comment, now)
        elif action == "shelve":
            transition = self.engine.shelve(alarm_id, user, comment, duration or 0.0, now)
        elif action == "unshelve":
            transition = self.engine.unshelve(alarm_id, user, comment, now)
        else:
            transition = self.engine.set_out_of_service(
                alarm_id, user, comment, action == "return", now
            )
        entry = AuditEntry(
            actor=actor,
            action=f"alarm.{action}",
            target=f"alarm:{alarm_id}",
            old={"state": transition.previous.value},
            new={"state": transition.state.value, "comment": comment}
            | ({"duration_s": duration} if duration is not None else {}),
        )
        records = self._records([transition])
        try:
            with self.db.begin() as connection:
                record(connection, entry, now=now)
                self._write(connection, records)
        except Exception as exc:
            self.engine.restore(before, now)
            self.changes += 1  # undone: a reader may have seen the state in between
            raise ActionFailed(f"{action} of {alarm_id} could not be recorded: {exc}") from exc
        self._stored(records)
        return transition

    def acknowledge_many(
        self, alarm_ids: Sequence[str] | None, actor: Actor, comment: str | None
    ) -> BulkAck:
        """Acknowledge the alarms `alarm_ids` (None: every alarm waiting for it), each
        journaled and audited like a single acknowledgement, all in one transaction.

        An id that is unknown or not waiting is refused and the others go on; if the
        transaction fails, every alarm is put back and ActionFailed is raised (blocking)."""
        if alarm_ids is None:
            alarm_ids = [alarm.id for alarm in self.engine.alarms() if alarm.state.needs_ack]
        wanted = list(dict.fromkeys(alarm_ids))  # each once, in the order asked
        before = [entry for entry in self.engine.snapshot() if entry["id"] in set(wanted)]
        now = utc_now()
        done: list[Transition] = []
        refused: list[tuple[str, UnknownAlarm | ActionRefused]] = []
        for alarm_id in wanted:
            try:
                done.append(self.engine.acknowledge(alarm_id, actor.name, comment, now))
            except (UnknownAlarm, ActionRefused) as exc:
                refused.append((alarm_id, exc))
        if not done:
            return BulkAck(done, refused)
        entries = [
            AuditEntry(
                actor=actor,
                action="alarm.acknowledge",
                target=f"alarm:{t.alarm_id}",
                old={"state": t.previous.value},
                new={"state": t.state.value, "comment": comment, "bulk": True},
            )
            for t in done
        ]
        records = self._records(done)
        try:
            with self.db.begin() as connection:
                for entry in entries:
                    record(connection, entry, now=now)
                self._write(connection, records)
        except Exception as exc:
            self.engine.restore(before, now)
            self.changes += 1  # undone: a reader may have seen the state in between
            raise ActionFailed(
                f"acknowledging {len(done)} alarm(s) could not be recorded: {exc}"
            ) from exc
        self._stored(records)
        return BulkAck(done, refused)


def _journal_row(station_id: int, transition: Transition, rule: Any) -> dict[str, Any]:
    value = transition.value
    return {
        "ts": to_micros(transition.ts),
        "station_id": station_id,
        "alarm_id": transition.alarm_id,
        "priority": rule.priority,
        "previous": transition.previous.value,
        "state": transition.state.value,
        "active": transition.active,
        "value": value,
        "username": transition.user,
        "comment": transition.comment,
        "reason": str(transition.reason),
        "message": rule.message,
    }


def journal(
    engine: Engine,
    station_id: int,
    *,
    start: datetime,
    end: datetime,
    alarm_id: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Journal rows in [start, end), newest first, at most `limit`."""
    query = (
        sa.select(alarm_journal)
        .where(
            alarm_journal.c.station_id == station_id,
            alarm_journal.c.ts >= to_micros(start),
            alarm_journal.c.ts < to_micros(end),
        )
        .order_by(alarm_journal.c.ts.desc(), alarm_journal.c.id.desc())
        .limit(limit)
    )
    if alarm_id is not None:
        query = query.where(alarm_journal.c.alarm_id == alarm_id)
    with engine.connect() as connection:
        return [
            dict(row._mapping) | {"ts": from_micros(row.ts)} for row in connection.execute(query)
        ]


def kpi_transitions(
    engine: Engine, station_id: int, *, start: datetime, end: datetime, limit: int
) -> list[Transition]:
    """The transitions in [start, end), oldest first, at most `limit`, with only what the KPIs
    read (no values, users or comments): a year of a busy journal in little memory."""
    from pstg.alarms.states import AlarmState

    query = (
        sa.select(
            alarm_journal.c.alarm_id,
            alarm_journal.c.ts,
            alarm_journal.c.previous,
            alarm_journal.c.state,
            alarm_journal.c.active,
        )
        .where(
            alarm_journal.c.station_id == station_id,
            alarm_journal.c.ts >= to_micros(start),
            alarm_journal.c.ts < to_micros(end),
        )
        .order_by(alarm_journal.c.ts, alarm_journal.c.id)
        .limit(limit)
    )
    states = {state.value: state for state in AlarmState}
    with engine.connect() as connection:
        return [
            Transition(
                alarm_id=alarm_id,
                ts=from_micros(ts),
                previous=states[previous],
                state=states[state],
                active=bool(active),
                value=None,
                user=None,
                comment=None,
                reason="",
            )
            for alarm_id, ts, previous, state, active in connection.execute(query)
        ]


def transitions_from(rows: Iterable[dict[str, Any]]) -> list[Transition]:
    """Journal rows back as Transitions (for the KPIs)."""
    from pstg.alarms.states import AlarmState

    return [
        Transition(
            alarm_id=row["alarm_id"],
            ts=row["ts"],
            previous=AlarmState(row["previous"]),
            state=AlarmState(row["state"]),
            active=bool(row["active"]),
            value=row["value"],
            user=row["username"],
            comment=row["comment"],
            reason=row["reason"],
        )
        for row in rows
    ]
