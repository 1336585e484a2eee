"""Who is who, and who is on call: names in `to:` resolved to the people a channel reaches.

    Directory.resolve(names, at)   people, groups and rotas -> people, in order, once each
    on_call(rota, at)              the names a rota puts on call at an instant
    matches(route, alarm)          does a route take this alarm (priority, station, tag)

A rota is a week of shifts in its time zone: each shift starts on its days at its time, and its
people stay on call until the next shift starts (the handover), across midnight and across the
week's end. On a holiday (a date in the rota's time zone) the holiday people are on call all
day instead. Times are wall-clock times in the zone, so a 07:00 handover stays at 07:00 across
a daylight-saving change. Pure: the instant is always given.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from fnmatch import fnmatchcase
from zoneinfo import ZoneInfo

from pstg.config.notifications import (
    WEEKDAYS,
    NotificationsConfig,
    PersonConfig,
    RotaConfig,
    RouteConfig,
)
from pstg.notify.message import AlarmInfo, Recipient


def on_call(rota: RotaConfig, at: datetime) -> list[str]:
    """The people and groups `rota` has on call at `at` (an aware datetime)."""
    local = at.astimezone(ZoneInfo(rota.time_zone))
    holidays = rota.holidays
    if holidays is not None and local.date() in holidays.dates:
        return list(holidays.on_call)
    # The latest shift start at or before `local`, looking back up to a week.
    minutes = local.weekday() * 1440 + local.hour * 60 + local.minute
    best: tuple[int, list[str]] | None = None
    for shift in rota.shifts:
        for day in shift.days:
            start = WEEKDAYS.index(day) * 1440 + shift.start.hour * 60 + shift.start.minute
            ago = (minutes - start) % (7 * 1440)
            if best is None or ago < best[0]:
                best = (ago, shift.on_call)
    return list(best[1]) if best is not None else []


def next_handover(rota: RotaConfig, at: datetime) -> datetime:
    """The next shift start after `at` (for people: "bob takes over at 19:00")."""
    zone = ZoneInfo(rota.time_zone)
    local = at.astimezone(zone)
    candidates = []
    for shift in rota.shifts:
        for day in shift.days:
            days_ahead = (WEEKDAYS.index(day) - local.weekday()) % 7
            start = datetime.combine(
                local.date() + timedelta(days=days_ahead), shift.start, tzinfo=zone
            )
            if start <= local:
                start += timedelta(days=7)
            candidates.append(start)
    return min(candidates)


def matches(route: RouteConfig, alarm: AlarmInfo) -> bool:
    """Does `route` take `alarm`? Every filter it has must match; none given matches all."""
    if route.priorities is not None and alarm.priority not in route.priorities:
        return False
    if route.stations is not None and not _any_match(route.stations, [alarm.station_id]):
        return False
    if route.tags is not None:
        subjects = [alarm.alarm_id] + ([alarm.tag] if alarm.tag else [])
        if not _any_match(route.tags, subjects):
            return False
    return True


def _any_match(patterns: Iterable[str], subjects: list[str]) -> bool:
    return any(fnmatchcase(subject, pattern) for pattern in patterns for subject in subjects)


class Directory:
    """The people, groups and rotas of a notifications section, looked up by name."""

    def __init__(self, section: NotificationsConfig) -> None:
        self.section = section
        self.people = {person.name: person for person in section.people}
        self.groups = {group.name: group.members for group in section.groups}
        self.rotas = {rota.name: rota for rota in section.rotas}

    def knows(self, name: str) -> bool:
        return name in self.people or name in self.groups or name in self.rotas

    def resolve(self, names: Iterable[str], at: datetime) -> list[PersonConfig]:
        """The people `names` stand for at `at`, in order, each once; unknown names (which
        check-config refuses) are skipped."""
        found: dict[str, PersonConfig] = {}
        for name in names:
            for person in self._expand(name, at, depth=0):
                found.setdefault(person.name, person)
        return list(found.values())

    def _expand(self, name: str, at: datetime, depth: int) -> list[PersonConfig]:
        if depth > 3:  # a rota names groups, a group names people: no deeper
            return []
        if name in self.people:
            return [self.people[name]]
        if name in self.groups:
            return [p for member in self.groups[name] for p in self._expand(member, at, depth + 1)]
        if name in self.rotas:
            names = on_call(self.rotas[name], at)
            return [p for member in names for p in self._expand(member, at, depth + 1)]
        return []


def recipient(person: PersonConfig) -> Recipient:
    return Recipient(person.name, person.email, person.phone)


def local_time(at: datetime, zone: str) -> time:
    return at.astimezone(ZoneInfo(zone)).time()
