"""The command journal in the database: each step of a command is its journal row, its audit
row and its event, written in one transaction (`record_step`), so a step whose audit row
cannot be written does not happen. Blocking: call these in a worker thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.audit import AuditEntry, record
from pstg.commands.model import Command, CommandState, UnknownCommand
from pstg.commands.tables import commands
from pstg.model import Event, EventKind
from pstg.storage import events
from pstg.times import from_micros, to_micros

MAX_LIST = 1000
"""Journal rows one listing returns at most."""
_TIMES = ("selected_at", "expires_at", "operated_at", "finished_at")


def record_step(
    engine: Engine, station_id: int, command: Command, entry: AuditEntry, message: str
) -> int:
    """Write `command` (a new row when its id is 0, else its row updated), the audit row
    `entry` and a `command` event saying `message`, in one transaction; the command's id.
    Raises what the database raises: then nothing was written."""
    with engine.begin() as connection:
        ts = record(connection, entry).ts  # the event has the audit row's time
        values = _row(station_id, command)
        if command.id == 0:
            command_id = int(
                connection.execute(
                    sa.insert(commands).values(**values).returning(commands.c.id)
                ).scalar_one()
            )
        else:
            command_id = command.id
            connection.execute(
                sa.update(commands).where(commands.c.id == command_id).values(**values)
            )
        event = Event(
            ts,
            EventKind.COMMAND,
            command.tag,
            message,
            {"command": str(command_id), "state": command.state.value, "user": command.user},
        )
        events.insert_events(connection, [events.event_row(event, station_id)])
    return command_id


def record_refusal(
    engine: Engine, station_id: int, tag: str, entry: AuditEntry, message: str
) -> None:
    """A refused step of an existing command (operate by another user, too late...): its
    audit row and a `command` event; the command's row stays as it was."""
    with engine.begin() as connection:
        ts = record(connection, entry).ts
        event = Event(ts, EventKind.COMMAND, tag, message, {"user": entry.actor.name})
        events.insert_events(connection, [events.event_row(event, station_id)])


def get(engine: Engine, station_id: int, command_id: int) -> Command:
    """The command `command_id` of the station; UnknownCommand when there is none."""
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(commands).where(
                commands.c.id == command_id, commands.c.station_id == station_id
            )
        ).one_or_none()
    if row is None:
        raise UnknownCommand(f"no command {command_id} on this station")
    return _command(row._mapping)


def list_commands(
    engine: Engine,
    station_id: int,
    *,
    tag: str | None = None,
    user: str | None = None,
    state: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 100,
) -> list[Command]:
    """The station's commands, newest first, selected in [start, end), at most `limit`
    (capped at MAX_LIST)."""
    query = (
        sa.select(commands)
        .where(commands.c.station_id == station_id)
        .order_by(commands.c.id.desc())
        .limit(max(1, min(limit, MAX_LIST)))
    )
    if tag is not None:
        query = query.where(commands.c.tag == tag)
    if user is not None:
        query = query.where(commands.c.username == user)
    if state is not None:
        query = query.where(commands.c.state == state)
    if start is not None:
        query = query.where(commands.c.selected_at >= to_micros(start))
    if end is not None:
        query = query.where(commands.c.selected_at < to_micros(end))
    with engine.connect() as connection:
        return [_command(row._mapping) for row in connection.execute(query)]


def unfinished(engine: Engine, station_id: int) -> list[Command]:
    """Commands a previous run left selected or operating (it stopped or crashed)."""
    open_states = (CommandState.SELECTED.value, CommandState.OPERATING.value)
    query = (
        sa.select(commands)
        .where(commands.c.station_id == station_id, commands.c.state.in_(open_states))
        .order_by(commands.c.id)
        .limit(MAX_LIST)
    )
    with engine.connect() as connection:
        return [_command(row._mapping) for row in connection.execute(query)]


def last_operates(engine: Engine, station_id: int, tags: list[str]) -> dict[str, datetime]:
    """When each of `tags` (the commandable ones) was last operated, for min_interval."""
    if not tags:
        return {}
    query = (
        sa.select(commands.c.tag, sa.func.max(commands.c.operated_at))
        .where(commands.c.station_id == station_id, commands.c.operated_at.is_not(None))
        .group_by(commands.c.tag)
    )
    wanted = set(tags)
    with engine.connect() as connection:
        return {
            tag: from_micros(micros)
            for tag, micros in connection.execute(query)
            if tag in wanted and micros is not None
        }


def _row(station_id: int, command: Command) -> dict[str, Any]:
    row: dict[str, Any] = {
        "station_id": station_id,
        "tag": command.tag,
        "value": command.value,
        "label": command.label,
        "comment": command.comment,
        "username": command.user,
        "role": command.role,
        "mode": command.mode,
        "state": command.state.value,
        "rule": command.rule,
        "detail": command.detail,
        "old_value": command.old_value,
        "read_back": command.read_back,
        "exception_code": command.exception_code,
        "seconds": command.seconds,
    }
    for name in _TIMES:
        when = getattr(command, name)
        row[name] = None if when is None else to_micros(when)
    return row


def _command(row: Any) -> Command:
    def time(name: str) -> datetime | None:
        return None if row[name] is None else from_micros(row[name])

    return Command(
        id=row["id"],
        tag=row["tag"],
        value=row["value"],
        label=row["label"],
        comment=row["comment"],
        user=row["username"],
        role=row["role"],
        mode=row["mode"],
        state=CommandState(row["state"]),
        rule=row["rule"],
        detail=row["detail"],
        old_value=row["old_value"],
        read_back=row["read_back"],
        exception_code=row["exception_code"],
        seconds=row["seconds"],
        selected_at=from_micros(row["selected_at"]),
        expires_at=time("expires_at"),
        operated_at=time("operated_at"),
        finished_at=time("finished_at"),
    )
