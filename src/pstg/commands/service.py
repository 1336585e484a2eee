"""Commands in the running service: select-before-operate with interlocks, read-back and every
step journaled and audited (docs/commands.md).

    select    role, value and interlocks checked against live values, min_interval and the
              pump's starts in the last hour respected, the tag reserved for the user until
              `select_timeout`; journal row + audit row + event in one transaction, or no
              selection
    operate   only by the user who selected, before expiry: the rules checked again at that
              instant, the audit row written (if it cannot be, nothing is sent), the value
              written through the gateway (one request, ahead of the polls), then confirmed by
              the read-back tag following within its timeout
    cancel    by the user who selected
    expiry    a sweeper ends selections nobody operated (audited as the gateway)

State lives in the event loop (no locks): checks and the reservation happen before the first
await of a step, so two requests never both pass them. Database work runs in worker threads.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from pstg.audit import Actor, AuditEntry
from pstg.audit.log import Result
from pstg.auth.roles import Role
from pstg.commands import journal
from pstg.commands.model import (
    Command,
    CommandRefused,
    CommandState,
    CommandValue,
    Rule,
    refused_conflict,
    refused_forbidden,
    refused_invalid,
    refused_unavailable,
)
from pstg.commands.rules import (
    check_interlocks,
    command_value,
    follows,
    interlock_problem,
    stale_after,
)
from pstg.config.models import (
    CommandConfig,
    DeviceConfig,
    InterlockConfig,
    StationConfig,
    TagConfig,
)
from pstg.errors import Forbidden, Invalid, NotFound
from pstg.model import Quality, utc_now
from pstg.poller.writes import WriteOutcome, WriteStatus, check_write
from pstg.sinks.live import LiveCache
from pstg.times import format_instant

log = logging.getLogger("pstg.commands")

WriteTag = Callable[..., Awaitable[WriteOutcome]]
"""`Gateway.write_tag`: (tag, value, *, read_back, tolerance) -> outcome."""
StartsInHour = Callable[[str], tuple[int, float] | None]
"""For a running-feedback tag: (starts in the last hour, starts allowed), when a
starts_per_hour alarm watches it; None otherwise."""
ResultHook = Callable[[str, CommandState, CommandValue | None, datetime], None]
"""Told each operated command's outcome: (tag, state, value expected back, when); the alarm
engine's command_failed rules listen here."""

GATEWAY = Actor("pstg", None, "system", "gateway")
"""Who the audit log says expired a selection or closed one a stopped run left open."""
SWEEP_INTERVAL = 0.5
RECENT = 1000
"""Ended commands kept in memory (see `_ended`)."""


class CommandService:
    """See the module docstring."""

    def __init__(
        self,
        engine: Engine,
        station_id: int,
        config: StationConfig,
        live: LiveCache,
        write: WriteTag,
        *,
        starts_in_hour: StartsInHour | None = None,
        on_result: ResultHook | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.engine = engine
        self.station_id = station_id
        self.live = live
        self._write = write
        self._starts_in_hour = starts_in_hour
        self._on_result = on_result
        self._clock = clock
        self._tags: dict[str, tuple[TagConfig, DeviceConfig]] = {
            tag.name: (tag, device)
            for device in config.devices
            for tag in device.tags
            if tag.command is not None
        }
        self._reserved: dict[str, Command] = {}
        """The pending (selected or operating) command of each tag."""
        self._pending: dict[int, Command] = {}
        self._ended: OrderedDict[int, Command] = OrderedDict()
        """The last commands that ended, for an answer that does not wait for (or race with)
        the journal row being written."""
        self._last_operate: dict[str, datetime] = {}
        self._sweeper: asyncio.Task[None] | None = None

    # --- start and stop ------------------------------------------------------------------

    async def start(self) -> None:
        """Close what a previous run left open, learn the last operates, start the sweeper."""
        left = await asyncio.to_thread(journal.unfinished, self.engine, self.station_id)
        for command in left:
            if command.state is CommandState.SELECTED:
                state, why = CommandState.EXPIRED, "the service restarted before the operate"
            else:
                state = CommandState.FAILED
                why = "the service stopped during the operate: whether it was written is unknown"
            await self._finish(command, state, why, GATEWAY, f"command.{state.value}")
        self._last_operate = await asyncio.to_thread(
            journal.last_operates, self.engine, self.station_id, list(self._tags)
        )
        self._sweeper = asyncio.create_task(self._sweep(), name="command expiry")

    async def stop(self) -> None:
        """Stop the sweeper; selections nobody operated end as expired."""
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
        for command in list(self._pending.values()):
            if command.state is CommandState.SELECTED:
                await self._end(command, CommandState.EXPIRED, "the service stopped", GATEWAY)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            now = self._clock()
            for command in list(self._pending.values()):
                if command.state is CommandState.SELECTED and _expired(command, now):
                    await self._expire(command)

    # --- reading -------------------------------------------------------------------------

    def command_tags(self) -> list[tuple[TagConfig, DeviceConfig]]:
        """The tags that take commands, with their devices, in config order."""
        return list(self._tags.values())

    def interlocks_now(
        self, tag_name: str, value: CommandValue | None = None
    ) -> list[tuple[InterlockConfig, str | None]]:
        """Each interlock of the tag with why it does not hold now (None: it holds); for
        `value` None, interlocks on the commanded value judge only their tag's reading."""
        tag, _ = self._commandable(tag_name)
        now = self._clock()
        return [
            (interlock, interlock_problem(
                interlock, value, self.live.get(interlock.tag),
                self._stale_after, now,
            ))
            for interlock in _command_of(tag).interlocks
        ]  # fmt: skip

    def reservation(self, tag_name: str) -> Command | None:
        """The pending command holding the tag, if any."""
        pending = self._reserved.get(tag_name)
        return None if pending is None else replace(pending)

    async def get(self, command_id: int) -> Command:
        held = self._pending.get(command_id) or self._ended.get(command_id)
        if held is not None:
            return replace(held)
        return await asyncio.to_thread(journal.get, self.engine, self.station_id, command_id)

    async def list(self, **filters: Any) -> list[Command]:
        return await asyncio.to_thread(
            journal.list_commands, self.engine, self.station_id, **filters
        )

    # --- select ----------------------------------------------------------------------------

    async def select(
        self,
        actor: Actor,
        role: Role,
        tag_name: str,
        value: CommandValue,
        comment: str = "",
        *,
        direct: bool = False,
    ) -> Command:
        """Select `value` for `tag_name` (and for a `mode: direct` tag, operate it at once);
        NotFound / Forbidden for a tag that takes no commands, CommandRefused by a rule."""
        tag, device = self._commandable(tag_name)
        config = _command_of(tag)
        now = self._clock()
        command = Command(
            id=0, tag=tag_name, value=value, label=None, comment=comment,
            user=actor.name, role=role.label, mode=config.mode,
            state=CommandState.SELECTED, detail="", selected_at=now,
            expires_at=now + timedelta(seconds=config.select_timeout),
        )  # fmt: skip
        try:
            self._check_role(tag, role)
            command.value, command.label = command_value(tag, value)
            _check_encoding(device, tag_name, command.value)
            held = self._reserved.get(tag_name)
            if held is not None and held.user != actor.name:
                raise refused_conflict(
                    "reserved",
                    f"{tag_name} is selected by {held.user} (command {held.id}) until "
                    f"{format_instant(held.expires_at or now)}",
                )
            if held is not None and held.state is CommandState.OPERATING:
                raise refused_conflict("reserved", f"{tag_name} is being operated now")
            self._check_plant(tag, device, command.value, now)
        except CommandRefused as refusal:
            await self._refused(command, refusal, actor)
            raise
        replaced = "replaced by a new selection"
        if held is not None:  # the same user selecting again: the new selection replaces it
            self._release(held, CommandState.CANCELLED, replaced)
        self._reserved[tag_name] = command  # before any await: nobody else passes meanwhile
        if held is not None:
            await self._finish(held, CommandState.CANCELLED, replaced, actor, "command.cancel")
        try:
            command.id = await asyncio.to_thread(
                journal.record_step, self.engine, self.station_id, command,
                AuditEntry(actor, "command.select", f"tag:{tag_name}",
                           new=_audit_value(command)),
                f"{actor.name} selected {_what(command)}",
            )  # fmt: skip
        except Exception as exc:
            del self._reserved[tag_name]
            raise refused_unavailable(
                "audit", f"not selected: the selection could not be journaled and audited ({exc})"
            ) from exc
        self._pending[command.id] = command
        if direct or config.mode == "direct":
            return await self.operate(actor, role, command.id)
        return replace(command)

    # --- operate ---------------------------------------------------------------------------

    async def operate(self, actor: Actor, role: Role, command_id: int) -> Command:
        """Operate the selection `command_id`: checks, audit, write, read-back; the command in
        its final state. UnknownCommand, or CommandRefused by a rule (nothing written)."""
        command = await self._own_pending(actor, command_id, "operate")
        now = self._clock()
        if command.state is CommandState.OPERATING:
            raise await self._refuse_step(
                command, actor, "operate", refused_conflict("state", "it is being operated now")
            )
        if _expired(command, now):
            await self._expire(command)
            raise await self._refuse_step(
                command, actor, "operate",
                refused_conflict("expired", f"command {command.id} expired at "
                                 f"{format_instant(command.expires_at or now)}: select again"),
            )  # fmt: skip
        tag, device = self._tags[command.tag]
        command.state = CommandState.OPERATING  # before the first await: one operate only
        try:
            self._check_role(tag, role)
            assert command.value is not None
            self._check_plant(tag, device, command.value, now)
        except CommandRefused as refusal:
            command.rule = refusal.rule
            await self._end(command, CommandState.REFUSED, refusal.message, actor)
            raise
        held = self.live.get(command.tag)
        command.old_value = None if held is None else held.value
        command.operated_at = now
        try:
            await asyncio.to_thread(
                journal.record_step, self.engine, self.station_id, command,
                AuditEntry(actor, "command.operate", f"tag:{command.tag}",
                           old=command.old_value, new=_audit_value(command)),
                f"{actor.name} operated {_what(command)}",
            )  # fmt: skip
        except Exception as exc:
            why = f"not written: the operate could not be audited ({exc})"
            self._release(command, CommandState.FAILED, why)
            command.rule = "audit"
            raise refused_unavailable("audit", why) from exc
        self._last_operate[command.tag] = now
        await self._write_and_confirm(tag, device, command)
        self._release(command, command.state, command.detail)
        await self._record_outcome(command, actor)
        if self._on_result is not None and command.state is not CommandState.DEVICE_REFUSED:
            expected = _expected(tag, command)
            self._on_result(command.tag, command.state, expected, command.finished_at or now)
        return replace(command)

    async def _write_and_confirm(
        self, tag: TagConfig, device: DeviceConfig, command: Command
    ) -> None:
        config = _command_of(tag)
        readback = config.readback
        own = readback.tag in (None, tag.name)
        loop = asyncio.get_running_loop()
        began = loop.time()
        assert command.value is not None
        outcome: WriteOutcome = await self._write(
            tag.name, command.value, read_back=own and not config.pulse,
            tolerance=readback.tolerance,
        )  # fmt: skip
        if outcome.status is WriteStatus.DEVICE_REFUSED:
            command.exception_code = outcome.exception_code
            self._done(command, CommandState.DEVICE_REFUSED, outcome.message, began)
            return
        if outcome.status is WriteStatus.FAILED:
            self._done(command, CommandState.FAILED, outcome.message, began)
            return
        if config.pulse and own:
            # The device clears a pulse itself: reading it back says nothing.
            self._done(command, CommandState.CONFIRMED, "the device took the pulse", began)
            return
        if own and outcome.confirmed:
            command.read_back = outcome.read_back
            self._done(command, CommandState.CONFIRMED, "read back at once", began)
            return
        name = readback.tag or tag.name
        expected = _expected(tag, command)
        followed, reading = await self._await_reading(
            name, expected, readback.tolerance, self._clock(), began + readback.timeout
        )
        command.read_back = reading
        if followed:
            self._done(command, CommandState.CONFIRMED, f"{name} followed", began)
        else:
            shown = "no reading" if reading is None else f"{reading!r}"
            self._done(
                command, CommandState.NOT_CONFIRMED,
                f"{name} did not reach {expected!r} within {readback.timeout:g} s "
                f"(last: {shown})", began,
            )  # fmt: skip

    async def _await_reading(
        self, name: str, expected: CommandValue, tolerance: float, after: datetime, deadline: float
    ) -> tuple[bool, float | str | None]:
        """Wait until a good reading of `name` taken after `after` follows `expected`, or the
        loop time `deadline`; (followed, the last reading)."""
        loop = asyncio.get_running_loop()
        last: float | str | None = None
        while True:
            seen = self.live.seq
            sample = self.live.get(name)
            if sample is not None and sample.ts >= after and sample.quality is Quality.GOOD:
                last = sample.value
                if follows(sample.value, expected, tolerance):
                    return True, last
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False, last
            try:  # the next batch the live view takes (one lookup of one tag per batch)
                await asyncio.wait_for(self.live.changed_after(seen), remaining)
            except TimeoutError:
                return False, last

    def _done(self, command: Command, state: CommandState, detail: str, began: float) -> None:
        command.state, command.detail = state, detail
        command.finished_at = self._clock()
        command.seconds = round(asyncio.get_running_loop().time() - began, 6)

    async def _record_outcome(self, command: Command, actor: Actor) -> None:
        """The outcome's audit row and event; the write happened, so a database down now is
        logged, not raised: the caller still learns the outcome."""
        result: Result = "ok" if command.state is CommandState.CONFIRMED else "failed"
        try:
            await asyncio.to_thread(
                journal.record_step, self.engine, self.station_id, command,
                AuditEntry(actor, "command.result", f"tag:{command.tag}",
                           new={"state": command.state.value, "read_back": command.read_back,
                                "exception_code": command.exception_code},
                           result=result, detail=command.detail),
                f"{_what(command)}: {command.state.value} ({command.detail})",
            )  # fmt: skip
        except Exception as exc:
            log.error("command %d on %s ended %s, not journaled: %s",
                      command.id, command.tag, command.state.value, exc)  # fmt: skip

    # --- cancel and expiry -----------------------------------------------------------------

    async def cancel(self, actor: Actor, command_id: int) -> Command:
        """Cancel the selection `command_id` (only its user may)."""
        command = await self._own_pending(actor, command_id, "cancel")
        if command.state is CommandState.OPERATING:
            raise await self._refuse_step(
                command, actor, "cancel", refused_conflict("state", "it is being operated now")
            )
        await self._end(command, CommandState.CANCELLED, "cancelled", actor)
        return replace(command)

    async def _expire(self, command: Command) -> None:
        await self._end(
            command, CommandState.EXPIRED,
            f"not operated within {format_instant(command.expires_at or command.selected_at)}",
            GATEWAY,
        )  # fmt: skip

    async def _end(self, command: Command, state: CommandState, why: str, actor: Actor) -> None:
        """End a pending command without writing (cancelled, expired, refused at operate)."""
        if command.id in self._pending or self._reserved.get(command.tag) is command:
            self._release(command, state, why)
        await self._finish(command, state, why, actor, f"command.{_verb(state)}")

    async def _finish(
        self, command: Command, state: CommandState, why: str, actor: Actor, action: str
    ) -> None:
        command.state, command.detail = state, why
        command.finished_at = self._clock()
        result: Result = "ok" if state is CommandState.CANCELLED else "failed"
        try:
            await asyncio.to_thread(
                journal.record_step, self.engine, self.station_id, command,
                AuditEntry(actor, action, f"tag:{command.tag}",
                           new={"command": command.id, "state": state.value},
                           result=result, detail=why),
                f"{_what(command)}: {state.value} ({why})",
            )  # fmt: skip
        except Exception as exc:
            log.error("command %d on %s %s, not journaled: %s",
                      command.id, command.tag, state.value, exc)  # fmt: skip

    def _release(self, command: Command, state: CommandState, why: str) -> None:
        command.state, command.detail = state, why
        if self._pending.pop(command.id, None) is not None:
            self._ended[command.id] = command
            if len(self._ended) > RECENT:
                self._ended.popitem(last=False)
        if self._reserved.get(command.tag) is command:
            del self._reserved[command.tag]

    # --- checks ----------------------------------------------------------------------------

    def _commandable(self, tag_name: str) -> tuple[TagConfig, DeviceConfig]:
        found = self._tags.get(tag_name)
        if found is None:
            if tag_name in self.live.tags:
                raise Forbidden(
                    f"tag {tag_name} takes no commands: its config has no command block"
                )
            raise NotFound(f"no tag {tag_name!r}")
        device = found[1]
        if not device.enabled:
            raise Forbidden(f"tag {tag_name}: device {device.id} is disabled in the config")
        return found

    def _stale_after(self, name: str) -> float:
        """Seconds after which a reading of tag `name` no longer counts (its device's rule)."""
        tags = self.live.tags
        return stale_after(tags.devices[tags.device_id(tags.index(name))].device)

    def _check_role(self, tag: TagConfig, role: Role) -> None:
        needed = Role.parse(_command_of(tag).role)
        if role < needed:
            raise refused_forbidden(
                "role", f"commanding {tag.name} needs the role {needed.label}; you are {role.label}"
            )

    def _check_plant(
        self, tag: TagConfig, device: DeviceConfig, value: CommandValue, now: datetime
    ) -> None:
        """The rules on the state of the plant at `now`: interlocks, min_interval, starts."""
        config = _command_of(tag)
        check_interlocks(config.interlocks, value, self.live.get, self._stale_after, now)
        last = self._last_operate.get(tag.name)
        if last is not None and config.min_interval > 0:
            since = (now - last).total_seconds()
            if since < config.min_interval:
                raise refused_conflict(
                    "min_interval",
                    f"{tag.name} was operated {since:.0f} s ago; min_interval is "
                    f"{config.min_interval:g} s: try again in {config.min_interval - since:.0f} s",
                )
        if self._starts_in_hour is not None and value is True:
            feedback = config.readback.tag or tag.name
            starts = self._starts_in_hour(feedback)
            if starts is not None and starts[0] >= starts[1]:
                raise refused_conflict(
                    "starts_per_hour",
                    f"{feedback} started {starts[0]} times in the last hour; "
                    f"{starts[1]:g} are allowed (starts_per_hour alarm)",
                )

    async def _own_pending(self, actor: Actor, command_id: int, step: str) -> Command:
        """The pending command `command_id` when `actor` selected it; refusals otherwise."""
        command = self._pending.get(command_id)
        if command is None:
            stored = self._ended.get(command_id)
            if stored is None:
                stored = await asyncio.to_thread(
                    journal.get, self.engine, self.station_id, command_id
                )  # UnknownCommand
            rule: Rule = "expired" if stored.state is CommandState.EXPIRED else "state"
            raise await self._refuse_step(
                stored, actor, step, refused_conflict(
                    rule, f"command {command_id} is {stored.state.value}, not selected"),
            )  # fmt: skip
        if command.user != actor.name:
            raise await self._refuse_step(
                command, actor, step,
                refused_forbidden("owner", f"command {command_id} was selected by "
                                  f"{command.user}; only they may {step} it"),
            )  # fmt: skip
        return command

    async def _refused(self, command: Command, refusal: CommandRefused, actor: Actor) -> None:
        """A refused selection: its journal row, audit row and event (best effort)."""
        command.state, command.rule, command.detail = (
            CommandState.REFUSED,
            refusal.rule,
            refusal.message,
        )
        command.expires_at = None
        command.finished_at = command.selected_at
        result: Result = "denied" if refusal.rule in ("role", "owner") else "failed"
        try:
            command.id = await asyncio.to_thread(
                journal.record_step, self.engine, self.station_id, command,
                AuditEntry(actor, "command.select", f"tag:{command.tag}",
                           new=_audit_value(command), result=result,
                           detail=f"{refusal.rule}: {refusal.message}"),
                f"{actor.name} refused {_what(command)}: {refusal.message}",
            )  # fmt: skip
        except Exception as exc:
            log.error("refused command on %s not journaled: %s", command.tag, exc)

    async def _refuse_step(
        self, command: Command, actor: Actor, step: str, refusal: CommandRefused
    ) -> CommandRefused:
        """A refused operate/cancel of an existing command: audit row and event, the command
        unchanged. Returned for the caller to raise."""
        result: Result = "denied" if refusal.rule in ("role", "owner") else "failed"
        try:
            await asyncio.to_thread(
                journal.record_refusal, self.engine, self.station_id, command.tag,
                AuditEntry(actor, f"command.{step}", f"tag:{command.tag}",
                           new={"command": command.id}, result=result,
                           detail=f"{refusal.rule}: {refusal.message}"),
                f"{actor.name} refused {step} of command {command.id}: {refusal.message}",
            )  # fmt: skip
        except Exception as exc:
            log.error("refused %s of command %d not audited: %s", step, command.id, exc)
        return refusal


def _command_of(tag: TagConfig) -> CommandConfig:
    command = tag.command
    assert command is not None
    return command


def _check_encoding(device: DeviceConfig, tag_name: str, value: CommandValue) -> None:
    """The value fits the tag's type once scaled (refused at selection, not at operate)."""
    try:
        check_write(device, tag_name, value)
    except (Invalid, Forbidden, NotFound) as exc:
        raise refused_invalid(exc.message) from None


def _expired(command: Command, now: datetime) -> bool:
    return command.expires_at is not None and now >= command.expires_at


def _expected(tag: TagConfig, command: Command) -> CommandValue:
    """The value the read-back tag must reach: `readback.equals`, else the value sent (a run
    bit is confirmed by its running bit following it)."""
    readback = _command_of(tag).readback
    if readback.equals is not None:
        return readback.equals
    assert command.value is not None
    return command.value


def _audit_value(command: Command) -> dict[str, Any]:
    return {"command": command.id or None, "value": command.value, "label": command.label,
            "comment": command.comment, "mode": command.mode}  # fmt: skip


def _what(command: Command) -> str:
    shown = f"{command.value!r}" + (f" ({command.label})" if command.label else "")
    number = f"command {command.id}: " if command.id else ""
    return f"{number}{command.tag} = {shown}"


def _verb(state: CommandState) -> str:
    return {CommandState.CANCELLED: "cancel", CommandState.EXPIRED: "expire",
            CommandState.REFUSED: "operate"}.get(state, state.value)  # fmt: skip
