"""Whole-section checks of `notifications:`: every name a route, rota or group gives exists and
is of a kind that fits there, and every person can be reached by a channel that is configured.

People, groups and rotas share one namespace, since `to: [...]` may name any of them.
"""

from __future__ import annotations

from collections.abc import Iterator

from pstg.config.checks import Finding, LineOf, refer_to
from pstg.config.checks import unknown_name as unknown
from pstg.config.errors import Loc
from pstg.config.models import StationConfig
from pstg.config.notifications import EMAIL_CHANNEL, NotificationsConfig

_PHONE_TEMPLATES = frozenset({"sms", "voice"})


def check_notifications(config: StationConfig, line_of: LineOf) -> Iterator[Finding]:
    section = config.notifications
    if section is None:
        return
    base: Loc = ("notifications",)
    yield from _duplicates(section, line_of, base)
    kinds = dict((name, kind) for kind, name in reversed(list(section.names())))
    people = {person.name for person in section.people}
    for g, group in enumerate(section.groups):
        for m, member in enumerate(group.members):
            if member not in people:
                yield Finding(
                    (*base, "groups", g, "members", m),
                    _not_a(member, "person", kinds, people),
                )
    on_call = people | {group.name for group in section.groups}
    for r, rota in enumerate(section.rotas):
        for s, shift in enumerate(rota.shifts):
            for n, name in enumerate(shift.on_call):
                if name not in on_call:
                    where = (*base, "rotas", r, "shifts", s, "on_call", n)
                    yield Finding(where, _not_a(name, "person or group", kinds, on_call))
        if rota.holidays is not None:
            for n, name in enumerate(rota.holidays.on_call):
                if name not in on_call:
                    where = (*base, "rotas", r, "holidays", "on_call", n)
                    yield Finding(where, _not_a(name, "person or group", kinds, on_call))
    for r, route in enumerate(section.routes):
        for v, level in enumerate(route.levels):
            for n, name in enumerate(level.to):
                if name not in kinds:
                    where = (*base, "routes", r, "levels", v, "to", n)
                    yield Finding(where, unknown("person, group or rota", name, kinds))
    for n, name in enumerate(section.failure_alarm.to):
        if name not in kinds:
            where = (*base, "failure_alarm", "to", n)
            yield Finding(where, unknown("person, group or rota", name, kinds))
    yield from _reachable(section, base)


def _duplicates(section: NotificationsConfig, line_of: LineOf, base: Loc) -> Iterator[Finding]:
    first: dict[str, Loc] = {}
    lists: list[tuple[str, list[str]]] = [
        ("people", [person.name for person in section.people]),
        ("groups", [group.name for group in section.groups]),
        ("rotas", [rota.name for rota in section.rotas]),
    ]
    for key, names in lists:
        for i, name in enumerate(names):
            loc: Loc = (*base, key, i)
            if name in first:
                other = refer_to(first[name], line_of)
                yield Finding(
                    (*loc, "name"),
                    f"the name {name!r} is taken ({other}): people, groups and rotas "
                    "share names, since `to:` may name any of them",
                )
            else:
                first[name] = loc
    others: list[tuple[str, list[str]]] = [
        ("webhooks", [hook.name for hook in section.webhooks]),
        ("routes", [route.name for route in section.routes]),
    ]
    for key, names in others:
        seen: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in seen:
                other = refer_to((*base, key, seen[name]), line_of)
                yield Finding((*base, key, i, "name"), f"duplicate name {name!r} ({other})")
            else:
                seen[name] = i


def _reachable(section: NotificationsConfig, base: Loc) -> Iterator[Finding]:
    channels = section.channel_names()
    hooks = {hook.name: hook for hook in section.webhooks}
    for p, person in enumerate(section.people):
        loc: Loc = (*base, "people", p)
        if not person.channels:
            yield Finding(
                loc,
                f"{person.name!r} cannot be reached: give an email address or `via` "
                "(the channels that reach this person)",
            )
        for c, channel in enumerate(person.channels):
            where: Loc = (*loc, "via", c)
            if channel not in channels:
                if channel == EMAIL_CHANNEL:
                    message = "the email channel needs an SMTP server: notifications.email"
                else:
                    message = unknown("channel", channel, channels)
                yield Finding(where, message)
            elif channel == EMAIL_CHANNEL and person.email is None:
                yield Finding(where, f"{person.name!r} has no email address for `email`")
            elif (
                channel in hooks
                and hooks[channel].template in _PHONE_TEMPLATES
                and person.phone is None
            ):
                yield Finding(
                    where,
                    f"webhook {channel!r} sends {hooks[channel].template} to a phone: "
                    f"{person.name!r} has no phone",
                )


def _not_a(name: str, kind: str, kinds: dict[str, str], allowed: set[str]) -> str:
    if name in kinds:
        return f"{name!r} is a {kinds[name]}; only a {kind} fits here"
    return unknown(kind, name, allowed)
