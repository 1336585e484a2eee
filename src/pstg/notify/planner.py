"""Who is told what, and when: routing, escalation and flood control, with no I/O and no clock.

The sink hands the planner each alarm step (`on_alarm`) and the time (`tick`, about once a
second, with its clock: tests pass any instant). The planner answers with `Outgoing`
notifications for the channels it serves; sending them is the sink's.

An alarm raised (it enters `unacknowledged` from anything else) opens an *episode* on every
route that takes it (`directory.matches`), and the route's first level is told at once. Then,
until someone acknowledges:

- each next level is told when its `after` has passed since the alarm was raised (people are
  looked up when they are told, so a rota's handover during an episode tells the new shift);
- everyone told so far is reminded every `repeat` (if set).

Acknowledging, clearing or masking (shelve, suppress, out of service) ends the escalation and
is announced to everyone told; the episode is forgotten when the alarm is back to normal or
masked. An alarm that clears while unacknowledged stops escalating too: the condition is gone,
and the announcement says so.

Flood control (EEMUA 191): while more than `flood.alarms` alarms were raised within
`flood.window`, notices to a person are held and sent as one `Digest` every
`flood.digest_every`; when the flood is over, what is held goes out at the next tick and each
alarm is told on its own again. Tests and self-tests are never held.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pstg.config.notifications import LevelConfig, NotificationsConfig, PersonConfig, RouteConfig
from pstg.notify.directory import Directory, matches, recipient
from pstg.notify.message import (
    AlarmInfo,
    Content,
    Digest,
    Notice,
    NoticeKind,
    Recipient,
    Told,
)

UNACK = "unacknowledged"
NORMAL = "normal"
MASKED_STATES = frozenset({"shelved", "suppressed", "out_of_service"})
FAILURE_ROUTE = "failure_alarm"
"""The route of `notifications.failure_alarm.to` (the notification_failed alarm's own)."""
NOTIFICATION_FAILED = "notification_failed"
RESTORED = "restored"
"""The reason of a restored alarm's first step after a restart (pstg.alarms.delays)."""
CLEARED_STATES = frozenset({NORMAL, "returned_unacknowledged"})


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One notification to send: on which channel, to whom, what."""

    channel: str
    recipient: Recipient
    content: Content


@dataclass
class Episode:
    """One alarm on one route, from raised until normal again."""

    route: RouteConfig
    alarm: AlarmInfo
    raised_at: datetime
    level: int = 0
    told: dict[str, PersonConfig] = field(default_factory=dict)
    escalating: bool = True
    next_repeat: datetime | None = None


@dataclass
class _Held:
    since: datetime
    notices: list[Notice] = field(default_factory=list)


class Planner:
    """See the module docstring. `channels`: the channel names this planner serves."""

    def __init__(
        self,
        section: NotificationsConfig,
        channels: Collection[str],
        *,
        station_id: str,
        station_name: str = "",
        console_url: str = "",
    ) -> None:
        self.section = section
        self.channels = frozenset(channels)
        self.station_id = station_id
        self.station_name = station_name
        self.console_url = console_url
        self.directory = Directory(section)
        self.routes = list(section.routes)
        self._failure_route = (
            RouteConfig(name=FAILURE_ROUTE, levels=[LevelConfig(to=section.failure_alarm.to)])
            if section.failure_alarm.to
            else None
        )
        self.episodes: dict[str, list[Episode]] = {}
        self._raised: deque[datetime] = deque()
        self._held: dict[tuple[str, str], _Held] = {}
        self._recipients: dict[tuple[str, str], Recipient] = {}

    # --- alarm steps ------------------------------------------------------------------------

    def on_alarm(self, alarm: AlarmInfo, now: datetime) -> list[Outgoing]:
        """One step of an alarm's lifecycle (an `alarm` event); what to send now."""
        out: list[Outgoing] = []
        if alarm.state == UNACK and alarm.previous != UNACK:
            self._count_raised(now)
            episodes = [
                Episode(route, alarm, now, next_repeat=_after(now, route.repeat))
                for route in self._routes_for(alarm)
            ]
            if episodes:
                self.episodes[alarm.alarm_id] = episodes
            else:
                self.episodes.pop(alarm.alarm_id, None)
            for episode in episodes:
                self._tell_level(episode, 0, NoticeKind.RAISED, now, out)
            return out
        kind = _announcement(alarm)
        for episode in self.episodes.get(alarm.alarm_id, []):
            episode.alarm = alarm
            if kind is None:
                continue
            episode.escalating = False
            notice = self._notice(kind, alarm, episode.route.name, episode.level)
            for person in episode.told.values():
                self._send(person, notice, now, out)
        if alarm.state == NORMAL or alarm.state in MASKED_STATES:
            self.episodes.pop(alarm.alarm_id, None)
        return out

    def resume(
        self, alarm: AlarmInfo, raised_at: datetime, told: Sequence[Told], now: datetime
    ) -> list[Outgoing]:
        """After a restart: an alarm still unacknowledged since `raised_at` escalates on as if
        the gateway had never stopped. `told`: what its people were told since (the journal).
        A route whose first level heard nothing is told now; levels that came due while the
        gateway was down are told now; reminders go on from the last one (or the raise)."""
        out: list[Outgoing] = []
        episodes = []
        for route in self._routes_for(alarm):
            mine = [entry for entry in told if entry.route == route.name]
            reminders = [entry.ts for entry in mine if entry.kind == NoticeKind.REMINDER]
            episode = Episode(
                route, alarm, raised_at,
                next_repeat=_after(max(reminders, default=raised_at), route.repeat),
            )  # fmt: skip
            episodes.append(episode)
            if not mine:
                self._tell_level(episode, 0, NoticeKind.RAISED, now, out)
            else:
                episode.level = min(max(entry.level for entry in mine), len(route.levels) - 1)
                for entry in mine:
                    person = self.directory.people.get(entry.recipient)
                    if person is not None:  # not a person any more: nobody to remind
                        episode.told.setdefault(person.name, person)
            self._escalate(episode, now, out)
        if episodes:
            self.episodes[alarm.alarm_id] = episodes
        return out

    def _routes_for(self, alarm: AlarmInfo) -> list[RouteConfig]:
        routes = [route for route in self.routes if matches(route, alarm)]
        if alarm.alarm_id == NOTIFICATION_FAILED and self._failure_route is not None:
            routes.append(self._failure_route)
        return routes

    # --- time -------------------------------------------------------------------------------

    def tick(self, now: datetime) -> list[Outgoing]:
        """Time has passed to `now`: escalations and reminders due, digests due."""
        out: list[Outgoing] = []
        for episodes in self.episodes.values():
            for episode in episodes:
                if episode.escalating:
                    self._escalate(episode, now, out)
        self._release_held(now, out)
        return out

    def _escalate(self, episode: Episode, now: datetime, out: list[Outgoing]) -> None:
        levels = episode.route.levels
        escalated = False
        while episode.level + 1 < len(levels):
            due = episode.raised_at + timedelta(seconds=levels[episode.level + 1].after)
            if now < due:
                break
            episode.level += 1
            escalated = True
            self._tell_level(episode, episode.level, NoticeKind.ESCALATED, now, out)
        if episode.next_repeat is not None and now >= episode.next_repeat:
            episode.next_repeat = _after(now, episode.route.repeat)
            if not escalated:  # those just told need no reminder in the same breath
                notice = self._notice(
                    NoticeKind.REMINDER, episode.alarm, episode.route.name, episode.level
                )
                for person in episode.told.values():
                    self._send(person, notice, now, out)

    def _tell_level(
        self, episode: Episode, level: int, kind: NoticeKind, now: datetime, out: list[Outgoing]
    ) -> None:
        people = self.directory.resolve(episode.route.levels[level].to, now)
        notice = self._notice(kind, episode.alarm, episode.route.name, level)
        for person in people:
            episode.told.setdefault(person.name, person)
            self._send(person, notice, now, out)

    # --- flood control ----------------------------------------------------------------------

    @property
    def flooding(self) -> bool:
        return len(self._raised) > self.section.flood.alarms

    def _count_raised(self, now: datetime) -> None:
        self._raised.append(now)
        self._forget_old(now)

    def _forget_old(self, now: datetime) -> None:
        window = timedelta(seconds=self.section.flood.window)
        while self._raised and self._raised[0] <= now - window:
            self._raised.popleft()

    def _send(
        self, person: PersonConfig, notice: Notice, now: datetime, out: list[Outgoing]
    ) -> None:
        to = recipient(person)
        for channel in person.channels:
            if channel not in self.channels:
                continue
            key = (channel, person.name)
            held = self._held.get(key)
            if held is not None or self.flooding:
                if held is None:
                    held = self._held[key] = _Held(now)
                held.notices.append(notice)
                self._recipients[key] = to
            else:
                out.append(Outgoing(channel, to, notice))

    def _release_held(self, now: datetime, out: list[Outgoing]) -> None:
        self._forget_old(now)
        every = timedelta(seconds=self.section.flood.digest_every)
        flooding = self.flooding
        for key, held in list(self._held.items()):
            if flooding and now < held.since + every:
                continue
            del self._held[key]
            recipient_ = self._recipients.pop(key)
            if len(held.notices) == 1 and not flooding:
                out.append(Outgoing(key[0], recipient_, held.notices[0]))
                continue
            digest = Digest(
                tuple(held.notices), self.station_id, self.station_name, held.since,
                self.console_url,
            )  # fmt: skip
            out.append(Outgoing(key[0], recipient_, digest))

    # --- tests ------------------------------------------------------------------------------

    def test(self, names: Collection[str], now: datetime, user: str | None) -> list[Outgoing]:
        """A test notification to `names` (people, groups, rotas), on this planner's channels."""
        alarm = self.test_alarm(now, "test", "Test notification", user=user)
        notice = self._notice(NoticeKind.TEST, alarm, None, 0)
        return [
            Outgoing(channel, recipient(person), notice)
            for person in self.directory.resolve(names, now)
            for channel in person.channels
            if channel in self.channels
        ]

    def self_test(self, now: datetime) -> dict[str, list[Outgoing]]:
        """The scheduled self-test: a test alarm to each route's first level, by route."""
        alarm = self.test_alarm(now, "self_test", "Scheduled alarm self-test")
        found: dict[str, list[Outgoing]] = {}
        for route in self.routes:
            notice = self._notice(NoticeKind.SELF_TEST, alarm, route.name, 0)
            found[route.name] = [
                Outgoing(channel, recipient(person), notice)
                for person in self.directory.resolve(route.levels[0].to, now)
                for channel in person.channels
                if channel in self.channels
            ]
        return found

    def test_alarm(
        self, now: datetime, alarm_id: str, message: str, user: str | None = None
    ) -> AlarmInfo:
        return AlarmInfo(
            alarm_id=alarm_id, station_id=self.station_id, station_name=self.station_name,
            priority="low", state=UNACK, previous=NORMAL, reason="test", ts=now,
            message=message, description="a test: nothing is wrong at the station", user=user,
        )  # fmt: skip

    def _notice(self, kind: NoticeKind, alarm: AlarmInfo, route: str | None, level: int) -> Notice:
        return Notice(kind, alarm, route, level, self.console_url)


def _announcement(alarm: AlarmInfo) -> NoticeKind | None:
    """What a step after the raise tells the people told: None for steps that change nothing
    they need to know (a restore, a shelve re-timed)."""
    if alarm.state in MASKED_STATES:
        return NoticeKind.MASKED if alarm.previous not in MASKED_STATES else None
    if alarm.reason == "acknowledged":
        return NoticeKind.ACKNOWLEDGED
    if alarm.reason == "cleared" or (alarm.reason == RESTORED and alarm.state in CLEARED_STATES):
        # (After a restart the first step of a restored alarm says "restored", whatever the
        # value did meanwhile: an escalation resumed must hear that it cleared.)
        return NoticeKind.CLEARED
    return None


def _after(now: datetime, seconds: float) -> datetime | None:
    return now + timedelta(seconds=seconds) if seconds > 0 else None
