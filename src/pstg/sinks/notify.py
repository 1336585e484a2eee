"""Notification sinks: alarm events out to people, one sink per kind of channel.

The e-mail sink serves the `email` channel, the webhook sink every configured webhook; a later
MQTT channel is another sink built the same way (`build_notification_sinks`). Each sink:

- takes the `alarm` events the pipeline hands every sink (`submit_events`) and asks its
  `Planner` what to send (routing, escalation, flood digests), then queues that in its
  `Deliverer` (bounded, its own worker tasks, retries, every attempt journaled): polling
  never waits for a mail server;
- ticks once a second with its clock (escalations, reminders, digests, the daily self-test);
- reports the end of every delivery to the alarm service, whose notification_failed alarm
  follows it; that alarm's events come back through the pipeline like any other and go to
  `notifications.failure_alarm.to` too, best on another channel.

Every sink sees the same events and the same clock, so their plans agree: a person with
e-mail and an SMS webhook is told the same things on both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from pstg.alarms.service import AlarmService
from pstg.alarms.states import AlarmState
from pstg.batch import Batch
from pstg.config.models import StationConfig
from pstg.config.notifications import EMAIL_CHANNEL, NotificationsConfig
from pstg.model import Event, EventKind, utc_now
from pstg.notify import journal
from pstg.notify.channels import Channel, build_channels
from pstg.notify.delivery import Deliverer, Outcome
from pstg.notify.journal import Attempt
from pstg.notify.message import AlarmInfo, NoticeKind, Told
from pstg.notify.planner import RESTORED, Planner
from pstg.notify.schedule import next_self_test
from pstg.sinks.base import EmitEvent, Feed

log = logging.getLogger("pstg.notify")

TICK_INTERVAL = 1.0
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class NotifyContext:
    """What every notification sink shares."""

    config: StationConfig
    emit: EmitEvent
    engine: Engine | None = None
    """The station's database, for the journal (None: the log only)."""
    station_db_id: int = 0
    alarms: AlarmService | None = None
    clock: Clock = utc_now
    tick_interval: float = TICK_INTERVAL

    @property
    def section(self) -> NotificationsConfig:
        assert self.config.notifications is not None
        return self.config.notifications

    def console_url(self) -> str:
        if self.section.console_url:
            return self.section.console_url
        api = self.config.api
        host = f"[{api.host}]" if ":" in api.host else api.host
        return f"http://{host}:{api.port}/"


class NotificationSink:
    """See the module docstring."""

    feed = Feed.READINGS  # batches are not looked at: only events

    def __init__(self, name: str, channels: dict[str, Channel], context: NotifyContext) -> None:
        self.name = name
        self.context = context
        section = context.section
        station = context.config.station
        self.planner = Planner(
            section, channels, station_id=station.id, station_name=station.name,
            console_url=context.console_url(),
        )  # fmt: skip
        self.deliverer = Deliverer(
            channels, retry=section.retry, queue_size=section.queue_size,
            record=self._record, on_done=self._done, clock=context.clock,
        )  # fmt: skip
        self._units = {
            tag.name: tag.unit for device in context.config.devices for tag in device.tags
        }
        self._task: asyncio.Task[None] | None = None
        self._self_tests: set[asyncio.Task[object]] = set()
        self._next_self_test: datetime | None = None
        if section.self_test is not None:
            self._next_self_test = next_self_test(section.self_test, context.clock())

    @property
    def channels(self) -> Collection[str]:
        return self.deliverer.channels.keys()

    # --- the pipeline's side ------------------------------------------------------------------

    async def start(self) -> None:
        await self.deliverer.start()
        await self._resume_escalations()
        self._task = asyncio.create_task(self._run(), name=f"{self.name} ticks")

    async def _resume_escalations(self) -> None:
        """Alarms restored unacknowledged (the alarm service loads them before the pipeline
        starts) escalate on from where the journal says they were: levels that came due while
        the gateway was down are told now, nobody is told twice what reached them."""
        alarms = self.context.alarms
        if alarms is None:
            return
        waiting = [
            alarm
            for alarm in alarms.engine.alarms()
            if alarm.state is AlarmState.UNACK and alarm.since is not None
        ]
        if not waiting:
            return
        raised = {alarm.id: alarm.since for alarm in waiting if alarm.since is not None}
        told: list[Told] = []
        if self.context.engine is not None:
            try:
                told = await asyncio.to_thread(
                    journal.told_since, self.context.engine, self.context.station_db_id,
                    raised, list(self.channels),
                )  # fmt: skip
            except Exception as exc:  # no journal: better told twice than not at all
                log.warning("notification journal not read, escalations start again: %s", exc)
        by_alarm: dict[str, list[Told]] = defaultdict(list)
        for entry in told:
            by_alarm[entry.alarm_id].append(entry)
        now = self.context.clock()
        sent = 0
        for alarm in waiting:
            info = self._info(
                alarm.id, priority=alarm.rule.priority, state=alarm.state.value, previous="",
                reason=RESTORED, ts=raised[alarm.id], value=alarm.value, user=alarm.user,
            )  # fmt: skip
            for outgoing in self.planner.resume(info, raised[alarm.id], by_alarm[alarm.id], now):
                self.deliverer.submit(outgoing)
                sent += 1
        log.info(
            "%s: escalation of %d unacknowledged alarm(s) resumed, %d notification(s) due now",
            self.name, len(waiting), sent,
        )  # fmt: skip

    def submit(self, batch: Batch) -> None:
        pass

    def submit_events(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.kind is not EventKind.ALARM:
                continue
            info = self._alarm_info(event)
            if info is None:
                continue
            for outgoing in self.planner.on_alarm(info, self.context.clock()):
                self.deliverer.submit(outgoing)

    async def flush(self) -> None:
        pass

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for running in list(self._self_tests):
            running.cancel()
        await self.deliverer.close()

    # --- time ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.context.tick_interval)
            try:
                self.tick()
            except Exception:  # a bug in one tick must not end escalation for good
                log.exception("notification tick failed")

    def tick(self) -> None:
        """Let the clock's time pass: escalations, reminders, digests and the self-test due.
        The sink calls it every `tick_interval`; tests with a clock of their own call it."""
        now = self.context.clock()
        for outgoing in self.planner.tick(now):
            self.deliverer.submit(outgoing)
        due = self._next_self_test
        if due is not None and now >= due:
            section = self.context.section
            assert section.self_test is not None
            self._next_self_test = next_self_test(section.self_test, now)
            task = asyncio.get_running_loop().create_task(self.self_test(now))
            self._self_tests.add(task)
            task.add_done_callback(self._self_tests.discard)

    # --- tests --------------------------------------------------------------------------------

    async def send_test(self, names: Collection[str], user: str | None) -> list[Outcome]:
        """A test notification to `names` on this sink's channels, one try each, now."""
        outgoing = self.planner.test(names, self.context.clock(), user)
        return list(
            await asyncio.gather(*(self.deliverer.deliver(o, attempts=1) for o in outgoing))
        )

    async def self_test(self, now: datetime) -> dict[str, list[Outcome]]:
        """The alarm self-test: a test alarm to each route's first level; by route, how each
        delivery went (with the usual retries). Each route's result is an event."""
        plan = self.planner.self_test(now)
        results: dict[str, list[Outcome]] = {}
        for route, outgoing in plan.items():
            outcomes = list(await asyncio.gather(*(self.deliverer.deliver(o) for o in outgoing)))
            results[route] = outcomes
            self._announce_self_test(route, outcomes)
        return results

    def _announce_self_test(self, route: str, outcomes: list[Outcome]) -> None:
        reached = [f"{o.outgoing.recipient.name} ({o.outgoing.channel})" for o in outcomes
                   if o.delivered]  # fmt: skip
        missed = [f"{o.outgoing.recipient.name} ({o.outgoing.channel}): {o.error}"
                  for o in outcomes if not o.delivered]  # fmt: skip
        if not outcomes:
            verdict, words = "no_one", f"nobody on {self.name} is on this route's first level"
        elif missed:
            verdict, words = "failed", "NOT delivered to " + "; ".join(missed)
        else:
            verdict, words = "delivered", "delivered to " + ", ".join(reached)
        self.context.emit(
            Event(
                self.context.clock(), EventKind.NOTIFICATION, f"route:{route}",
                f"alarm self-test of route {route} on {self.name}: {words}",
                {"self_test": verdict, "route": route, "sink": self.name,
                 "delivered": str(len(reached)), "failed": str(len(missed))},
            )
        )  # fmt: skip

    # --- helpers ------------------------------------------------------------------------------

    def _alarm_info(self, event: Event) -> AlarmInfo | None:
        attributes = event.attributes or {}
        state = attributes.get("state")
        if state is None:
            return None  # not a transition (an older event shape)
        return self._info(
            event.source, priority=attributes.get("priority", "medium"), state=state,
            previous=attributes.get("previous", ""), reason=attributes.get("reason", ""),
            ts=event.ts, value=_value(attributes.get("value")), user=attributes.get("user"),
        )  # fmt: skip

    def _info(
        self, alarm_id: str, *, priority: str, state: str, previous: str, reason: str,
        ts: datetime, value: float | str | None, user: str | None,
    ) -> AlarmInfo:  # fmt: skip
        """The alarm as notifications tell it, with its rule's message and tag."""
        tag: str | None = None
        message = description = ""
        alarms = self.context.alarms
        if alarms is not None:
            try:
                rule = alarms.engine.get(alarm_id).rule
            except LookupError:
                rule = None
            if rule is not None:
                tag = rule.tag or rule.device
                message, description = rule.message, rule.describe()
        station = self.context.config.station
        return AlarmInfo(
            alarm_id=alarm_id, station_id=station.id, station_name=station.name,
            priority=priority, state=state, previous=previous, reason=reason, ts=ts,
            message=message, description=description, tag=tag, value=value,
            unit=self._units.get(tag or "", ""), user=user,
        )  # fmt: skip

    async def _record(self, attempts: Sequence[Attempt]) -> None:
        engine = self.context.engine
        if engine is None:
            return
        await asyncio.to_thread(journal.write, engine, self.context.station_db_id, attempts)

    def _done(self, outcome: Outcome) -> None:
        alarms = self.context.alarms
        content = outcome.outgoing.content
        if alarms is None or content.kind is NoticeKind.TEST:
            return  # a test's result is the tester's to read, not an alarm
        key = f"{outcome.outgoing.channel}:{outcome.outgoing.recipient.name}"
        alarms.notification_result(
            key, outcome.delivered, outcome.error or "", self.context.clock()
        )


def _value(text: str | None) -> float | str | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def build_notification_sinks(context: NotifyContext) -> list[NotificationSink]:
    """One sink per kind of channel configured: e-mail, webhooks. MissingSecret when a
    channel's secret names an unset environment variable."""
    channels = build_channels(context.section)
    sinks = []
    email = {name: c for name, c in channels.items() if name == EMAIL_CHANNEL}
    hooks = {name: c for name, c in channels.items() if name != EMAIL_CHANNEL}
    for name, group in (("notify.email", email), ("notify.webhooks", hooks)):
        if group:
            sinks.append(NotificationSink(name, group, context))
    return sinks


__all__ = ["NotificationSink", "NotifyContext", "build_notification_sinks"]
