"""Whole-station checks of the config layer, and the vocabulary every layer's checks share.

What no single field can know on its own, and what needs nothing but the config to decide:
duplicate device ids, tag names and alarm ids, tags that run off the address space or claim a
register twice, alarms pointing at nothing. They run after the models validate, so every value
is typed and in range. Each check yields `Finding`s instead of raising, so one run reports every
problem; the loader turns findings into line-numbered `ConfigProblem`s.

The layers above check their own part with the same vocabulary (`Finding`, `LineOf`,
`StationCheck`): the codec whether it can decode each tag (`pstg.codec.checks`), the drivers
their connection settings and request limits (`pstg.drivers.checks`). The loader takes those
as a parameter, so this layer never imports them; `pstg.station.load_station` runs them all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from pstg.config.errors import Loc, format_location, suggest
from pstg.config.models import LIMIT_KINDS, MAX_ADDRESS, StationConfig, TagConfig
from pstg.model import DataType, RegisterTable

LIMIT_ALARMS = LIMIT_KINDS
NUMERIC_ALARMS = LIMIT_KINDS | {"discrete", "fail_to_start", "starts_per_hour", "command_failed"}
"""Alarm kinds that compare their tag's value with a number."""

LineOf = Callable[[Loc], int | None]
"""Gives the 1-based line of a location, so a finding can point at the place it refers to."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One whole-station problem at a location in the config tree."""

    loc: Loc
    message: str


class StationCheck(Protocol):
    """A whole-station check of some layer: every problem it finds in a validated config.

    `line_of` is only for messages that name the *other* half of a conflict (see `refer_to`);
    the loader finds the line of each finding's own `loc`.
    """

    def __call__(self, config: StationConfig, line_of: LineOf, /) -> Iterable[Finding]: ...


def no_lines(loc: Loc) -> int | None:
    """A `LineOf` for configs that come from no file."""
    return None


def refer_to(loc: Loc, line_of: LineOf) -> str:
    """The other place a finding refers to: `devices[0].tags[1], line 12` (no line if unknown)."""
    line = line_of(loc)
    where = format_location(loc)
    return where if line is None else f"{where}, line {line}"


def check_station(config: StationConfig, line_of: LineOf = no_lines) -> list[Finding]:
    """Every whole-station problem the config layer can see, in check order.

    `line_of` lets messages say on which line the *other* half of a conflict is, e.g. the first
    of two duplicate names.
    """
    ends = _end_addresses(config)
    findings: list[Finding] = []
    findings += _duplicate_device_ids(config, line_of)
    findings += _duplicate_tag_names(config, line_of)
    findings += _address_space(config, ends)
    findings += _overlapping_tags(config, ends, line_of)
    findings += _alarm_references(config)
    findings += _duplicate_alarm_ids(config, line_of)
    findings += _command_references(config)
    return findings


def _duplicate_device_ids(config: StationConfig, line_of: LineOf) -> Iterator[Finding]:
    first: dict[str, int] = {}
    for d, device in enumerate(config.devices):
        if device.id in first:
            other = refer_to(("devices", first[device.id]), line_of)
            yield Finding(("devices", d, "id"), f"duplicate device id {device.id!r} ({other})")
        else:
            first[device.id] = d


def _duplicate_tag_names(config: StationConfig, line_of: LineOf) -> Iterator[Finding]:
    # Across the whole station: alarms, storage and the API know a tag by its name alone.
    first: dict[str, tuple[int, int]] = {}
    for d, device in enumerate(config.devices):
        for t, tag in enumerate(device.tags):
            seen = first.setdefault(tag.name, (d, t))
            if seen != (d, t):
                other = refer_to(("devices", seen[0], "tags", seen[1]), line_of)
                yield Finding(
                    ("devices", d, "tags", t, "name"), f"duplicate tag name {tag.name!r} ({other})"
                )


def _end_addresses(config: StationConfig) -> list[list[int]]:
    """Each tag's last address, per device: two checks need it and it takes a few calls."""
    return [[tag.end_address for tag in device.tags] for device in config.devices]


def _address_space(config: StationConfig, ends: list[list[int]]) -> Iterator[Finding]:
    # The field check only sees the start address; a wide type can still run off the end.
    for d, device in enumerate(config.devices):
        for t, end in enumerate(ends[d]):
            if end > MAX_ADDRESS:
                tag = device.tags[t]
                yield Finding(
                    ("devices", d, "tags", t, "address"),
                    f"{tag.data_type.value} at {tag.address} needs registers "
                    f"{tag.address}..{end}, past the last register {MAX_ADDRESS}",
                )


def _overlapping_tags(
    config: StationConfig, ends: list[list[int]], line_of: LineOf
) -> Iterator[Finding]:
    """Two tags claiming one register (or coil) of a device.

    A bit tag is a view into its register, so it may sit on a register that a whole-register tag
    also reads (a status word kept as uint16 and its bits as alarms is common); only two tags on
    the same bit, or two whole-register tags on one register, clash.
    """
    for d, device in enumerate(config.devices):
        # (table, address) -> the tags already there, with the bit each uses (None: all of it)
        claims: dict[tuple[RegisterTable, int], list[tuple[int, int | None]]] = {}
        for t, tag in enumerate(device.tags):
            source, bit = tag.source, tag.bit
            addresses = range(tag.address, min(ends[d][t], MAX_ADDRESS) + 1)
            clash = _first_claim(claims, source, addresses, bit)
            if clash is not None:
                other_tag = device.tags[clash]
                where = refer_to(("devices", d, "tags", clash), line_of)
                yield Finding(
                    ("devices", d, "tags", t, "address"),
                    f"tag {tag.name!r} ({_span(tag)}) overlaps tag {other_tag.name!r} "
                    f"({_span(other_tag)}; {where})",
                )
            for address in addresses:
                claimed = claims.get((source, address))
                if claimed is None:
                    claims[(source, address)] = [(t, bit)]
                else:
                    claimed.append((t, bit))


def _first_claim(
    claims: dict[tuple[RegisterTable, int], list[tuple[int, int | None]]],
    source: RegisterTable,
    addresses: range,
    bit: int | None,
) -> int | None:
    """The first tag already on one of `addresses` of `source` with the same bit, if any."""
    for address in addresses:
        for other, other_bit in claims.get((source, address), ()):
            if other_bit == bit:
                return other
    return None


def _span(tag: TagConfig) -> str:
    """`holding_register 10..11`, `holding_register 4 bit 3` or `coil 7`."""
    where = f"{tag.source.value} {tag.address}"
    if tag.end_address != tag.address:
        where += f"..{tag.end_address}"
    if tag.bit is not None:
        where += f" bit {tag.bit}"
    return where


def _alarm_references(config: StationConfig) -> Iterator[Finding]:
    """Every tag and device an alarm names exists, tags compared with numbers are numbers, and
    a command_failed alarm's tag has a command block."""
    tags = {tag.name: tag for device in config.devices for tag in device.tags}
    devices = {device.id: device for device in config.devices}
    for a, alarm in enumerate(config.alarms):
        loc: Loc = ("alarms", a)
        numeric = alarm.kind in NUMERIC_ALARMS
        if alarm.tag is not None:
            tag = tags.get(alarm.tag)
            if tag is None:
                yield Finding((*loc, "tag"), unknown_name("tag", alarm.tag, tags))
            elif numeric and tag.data_type is DataType.STRING:
                yield Finding(
                    (*loc, "kind"),
                    f"a {alarm.kind} alarm needs a numeric tag; {alarm.tag!r} is a string",
                )
            elif alarm.kind == "command_failed" and tag.command is None:
                # Only commands report their outcome: without a command block the alarm
                # could never be raised, which would look like a plant that always follows.
                yield Finding(
                    (*loc, "tag"),
                    f"a command_failed alarm needs a commanded tag; {alarm.tag!r} has no "
                    "command block, so no command result could ever raise it",
                )
        if alarm.feedback is not None:
            yield from _numeric_tag(alarm.feedback, tags, (*loc, "feedback"), "feedback")
            if alarm.feedback == alarm.tag:
                yield Finding(
                    (*loc, "feedback"),
                    "feedback must be the running feedback, not the command tag itself",
                )
        if alarm.suppress_when is not None:
            where = (*loc, "suppress_when", "tag")
            yield from _numeric_tag(alarm.suppress_when.tag, tags, where, "suppress_when.tag")
        if alarm.device is not None:
            device = devices.get(alarm.device)
            if device is None:
                yield Finding((*loc, "device"), unknown_name("device", alarm.device, devices))
            elif not device.tags:
                yield Finding(
                    (*loc, "device"),
                    f"device {alarm.device!r} has no tags, so it is never read: "
                    "its comm_loss alarm could never clear",
                )


def _numeric_tag(name: str, tags: dict[str, TagConfig], loc: Loc, key: str) -> Iterator[Finding]:
    tag = tags.get(name)
    if tag is None:
        yield Finding(loc, unknown_name("tag", name, tags))
    elif tag.data_type is DataType.STRING:
        yield Finding(loc, f"{key} needs a numeric tag; {name!r} is a string")


def _duplicate_alarm_ids(config: StationConfig, line_of: LineOf) -> Iterator[Finding]:
    # Operators acknowledge and shelve an alarm by its id, so two alarms may not share one.
    first: dict[str, int] = {}
    for a, alarm in enumerate(config.alarms):
        alarm_id = alarm.alarm_id
        if alarm_id not in first:
            first[alarm_id] = a
            continue
        other = refer_to(("alarms", first[alarm_id]), line_of)
        if alarm.id is not None:
            yield Finding(("alarms", a, "id"), f"duplicate alarm id {alarm_id!r} ({other})")
        else:
            yield Finding(
                ("alarms", a),
                f"duplicate alarm id {alarm_id!r} ({other}): two {alarm.kind} alarms on one "
                "tag or device need an explicit id each",
            )


def _command_references(config: StationConfig) -> Iterator[Finding]:
    """The tags a command block names exist (on any device: a feedback may be wired to another
    PLC), and each interlock compares its tag with a value of the tag's kind."""
    tags = {tag.name: tag for device in config.devices for tag in device.tags}
    for d, device in enumerate(config.devices):
        for t, tag in enumerate(device.tags):
            command = tag.command
            if command is None:
                continue
            loc: Loc = ("devices", d, "tags", t, "command")
            for i, interlock in enumerate(command.interlocks):
                where: Loc = (*loc, "interlocks", i)
                other = tags.get(interlock.tag)
                if other is None:
                    yield Finding((*where, "tag"), unknown_name("tag", interlock.tag, tags))
                    continue
                key, operand = interlock.comparison, interlock.operand
                text = other.data_type is DataType.STRING
                if text and key in ("above", "below"):
                    yield Finding(
                        (*where, key),
                        f"{key} needs a numeric tag; interlock tag {interlock.tag!r} is a string",
                    )
                elif operand == "value" and (
                    tag.data_type is DataType.STRING or command.values is not None
                ):
                    yield Finding(
                        (*where, key),
                        f"{key} value compares with the value commanded: it needs a numeric "
                        "set point (min/max), not a string or an enumeration",
                    )
                elif operand != "value" and text != isinstance(operand, str):
                    kind = "a string" if text else "numeric"
                    yield Finding(
                        (*where, key),
                        f"{key} {_operand(operand)} cannot match interlock tag {interlock.tag!r}, "
                        f"which is {kind}",
                    )
            readback = command.readback.tag
            if readback is not None and readback not in tags:
                yield Finding((*loc, "readback", "tag"), unknown_name("tag", readback, tags))


def _operand(value: float | str) -> str:
    return repr(value) if isinstance(value, str) else f"{value:g}"


def unknown_name(what: str, name: str, known: Collection[str]) -> str:
    """`unknown tag 'levl' (did you mean 'level'?)`: a name not found, with the nearest one."""
    match = suggest(name, known)
    return f"unknown {what} {name!r}" + (f" (did you mean {match!r}?)" if match else "")
