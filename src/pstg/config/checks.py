"""Whole-station checks: what no single field can know on its own.

Duplicate names, unknown drivers, registers claimed twice, tags that do not fit a request or the
address space, alarms pointing at nothing or sharing an id, and devices that share one
connection but disagree on how to drive it. They run after the models validate, so every value
is typed and in range. Each check yields `Finding`s instead of raising, so one run reports
every problem; the loader turns findings into line-numbered `ConfigProblem`s.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from pstg.codec import CodecError, compile_tag
from pstg.config.durations import format_duration
from pstg.config.errors import Loc, format_location, suggest
from pstg.config.models import (
    LIMIT_KINDS,
    MAX_ADDRESS,
    DeviceConfig,
    StationConfig,
    TagConfig,
)
from pstg.drivers.planner import PlanError, plan_device
from pstg.drivers.registry import available_drivers
from pstg.model import DataType, RegisterTable

# Built-in drivers, by the kind of link they open (third-party drivers are not link-checked).
SERIAL_DRIVERS = frozenset({"modbus-rtu"})
NETWORK_DRIVERS = frozenset({"modbus-tcp", "modbus-rtu-over-tcp"})
BUILTIN_DRIVERS = SERIAL_DRIVERS | NETWORK_DRIVERS
LIMIT_ALARMS = LIMIT_KINDS
NUMERIC_ALARMS = LIMIT_KINDS | {"discrete", "fail_to_start", "starts_per_hour"}
"""Alarm kinds that compare their tag's value with a number."""

# What devices on one link must agree on: the link is opened once, with one set of settings.
NETWORK_SHARED = ("driver", "timeout")
SERIAL_SHARED = ("driver", "timeout", "baudrate", "parity", "stopbits", "bytesize")

LineOf = Callable[[Loc], int | None]
"""Gives the 1-based line of a location, so a finding can point at the place it refers to."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One whole-station problem at a location in the config tree."""

    loc: Loc
    message: str


def _no_lines(loc: Loc) -> int | None:
    return None


def known_drivers() -> frozenset[str]:
    """Driver names the registry can create (entry points of `pstg.drivers`, plus registered)."""
    return frozenset(available_drivers())


def check_station(
    config: StationConfig,
    *,
    drivers: Collection[str] | None = None,
    line_of: LineOf = _no_lines,
) -> list[Finding]:
    """Every whole-station problem of a validated config, in check order.

    `drivers` are the known driver names (default: ask the registry); `line_of` lets messages
    say on which line the *other* half of a conflict is, e.g. the first of two duplicate names.
    """
    refs = _Refs(line_of)
    names = frozenset(drivers) if drivers is not None else known_drivers()
    findings: list[Finding] = []
    findings += _duplicate_device_ids(config, refs)
    findings += _duplicate_tag_names(config, refs)
    findings += _unknown_drivers(config, names)
    findings += _serial_ports(config)
    findings += _address_space(config)
    findings += _overlapping_tags(config, refs)
    findings += _request_limits(config)
    findings += _tag_codecs(config)
    findings += _alarm_references(config)
    findings += _duplicate_alarm_ids(config, refs)
    findings += _shared_connections(config, refs)
    return findings


class _Refs:
    """Describes the other place a finding refers to: `devices[0].tags[1], line 12`."""

    def __init__(self, line_of: LineOf) -> None:
        self._line_of = line_of

    def __call__(self, loc: Loc) -> str:
        line = self._line_of(loc)
        where = format_location(loc)
        return where if line is None else f"{where}, line {line}"


def _duplicate_device_ids(config: StationConfig, refs: _Refs) -> Iterator[Finding]:
    first: dict[str, int] = {}
    for d, device in enumerate(config.devices):
        if device.id in first:
            other = refs(("devices", first[device.id]))
            yield Finding(("devices", d, "id"), f"duplicate device id {device.id!r} ({other})")
        else:
            first[device.id] = d


def _duplicate_tag_names(config: StationConfig, refs: _Refs) -> Iterator[Finding]:
    # Across the whole station: alarms, storage and the API know a tag by its name alone.
    first: dict[str, Loc] = {}
    for d, device in enumerate(config.devices):
        for t, tag in enumerate(device.tags):
            loc: Loc = ("devices", d, "tags", t)
            if tag.name in first:
                other = refs(first[tag.name])
                yield Finding((*loc, "name"), f"duplicate tag name {tag.name!r} ({other})")
            else:
                first[tag.name] = loc


def _unknown_drivers(config: StationConfig, drivers: frozenset[str]) -> Iterator[Finding]:
    available = sorted(drivers)
    for d, device in enumerate(config.devices):
        if device.driver in drivers:
            continue
        match = suggest(device.driver, available)
        hint = f"did you mean {match!r}? " if match else ""
        yield Finding(
            ("devices", d, "driver"),
            f"unknown driver {device.driver!r} ({hint}available: {', '.join(available)})",
        )


def _serial_ports(config: StationConfig) -> Iterator[Finding]:
    for d, device in enumerate(config.devices):
        if device.driver in SERIAL_DRIVERS and not device.serial_port:
            yield Finding(
                ("devices", d),
                f"missing required key 'serial_port' for driver {device.driver!r} "
                "(e.g. /dev/ttyUSB0 or COM3)",
            )


def _address_space(config: StationConfig) -> Iterator[Finding]:
    # The field check only sees the start address; a wide type can still run off the end.
    for d, device in enumerate(config.devices):
        for t, tag in enumerate(device.tags):
            if tag.end_address > MAX_ADDRESS:
                yield Finding(
                    ("devices", d, "tags", t, "address"),
                    f"{tag.data_type.value} at {tag.address} needs registers "
                    f"{tag.address}..{tag.end_address}, past the last register {MAX_ADDRESS}",
                )


def _overlapping_tags(config: StationConfig, refs: _Refs) -> Iterator[Finding]:
    """Two tags claiming one register (or coil) of a device.

    A bit tag is a view into its register, so it may sit on a register that a whole-register tag
    also reads (a status word kept as uint16 and its bits as alarms is common); only two tags on
    the same bit, or two whole-register tags on one register, clash.
    """
    for d, device in enumerate(config.devices):
        # (table, address) -> the tags already there, with the bit each uses (None: all of it)
        claims: dict[tuple[RegisterTable, int], list[tuple[int, int | None]]] = {}
        for t, tag in enumerate(device.tags):
            addresses = range(tag.address, min(tag.end_address, MAX_ADDRESS) + 1)
            clash = next(
                (
                    other
                    for address in addresses
                    for other, bit in claims.get((tag.source, address), ())
                    if bit == tag.bit
                ),
                None,
            )
            if clash is not None:
                other_tag = device.tags[clash]
                where = refs(("devices", d, "tags", clash))
                yield Finding(
                    ("devices", d, "tags", t, "address"),
                    f"tag {tag.name!r} ({_span(tag)}) overlaps tag {other_tag.name!r} "
                    f"({_span(other_tag)}; {where})",
                )
            for address in addresses:
                claims.setdefault((tag.source, address), []).append((t, tag.bit))


def _span(tag: TagConfig) -> str:
    """`holding_register 10..11`, `holding_register 4 bit 3` or `coil 7`."""
    where = f"{tag.source.value} {tag.address}"
    if tag.end_address != tag.address:
        where += f"..{tag.end_address}"
    if tag.bit is not None:
        where += f" bit {tag.bit}"
    return where


def _request_limits(config: StationConfig) -> Iterator[Finding]:
    # Ask the planner itself, one tag at a time, so the limits are never defined twice and
    # the finding points at the tag.
    for d, device in enumerate(config.devices):
        for t, tag in enumerate(device.tags):
            if tag.register_count == 1:
                continue
            try:
                plan_device(device.model_copy(update={"tags": [tag]}))
            except PlanError as exc:
                yield Finding(("devices", d, "tags", t), f"{exc}; raise max_registers_per_request")


def _tag_codecs(config: StationConfig) -> Iterator[Finding]:
    # Ask the codec itself, so a setting it cannot honour (a sentinel the type cannot hold,
    # scale on a bool) is caught here and not at service start.
    for d, device in enumerate(config.devices):
        for t, tag in enumerate(device.tags):
            try:
                compile_tag(tag, device)
            except CodecError as exc:
                message = str(exc).removeprefix(f"tag {tag.name}: ")
                yield Finding(("devices", d, "tags", t), message)


def _alarm_references(config: StationConfig) -> Iterator[Finding]:
    """Every tag and device an alarm names exists, and tags compared with numbers are numbers."""
    tags = {tag.name: tag for device in config.devices for tag in device.tags}
    devices = {device.id: device for device in config.devices}
    for a, alarm in enumerate(config.alarms):
        loc: Loc = ("alarms", a)
        numeric = alarm.kind in NUMERIC_ALARMS
        if alarm.tag is not None:
            tag = tags.get(alarm.tag)
            if tag is None:
                yield Finding((*loc, "tag"), _unknown("tag", alarm.tag, tags))
            elif numeric and tag.data_type is DataType.STRING:
                yield Finding(
                    (*loc, "kind"),
                    f"a {alarm.kind} alarm needs a numeric tag; {alarm.tag!r} is a string",
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
                yield Finding((*loc, "device"), _unknown("device", alarm.device, devices))
            elif not device.tags:
                yield Finding(
                    (*loc, "device"),
                    f"device {alarm.device!r} has no tags, so it is never read: "
                    "its comm_loss alarm could never clear",
                )


def _numeric_tag(name: str, tags: dict[str, TagConfig], loc: Loc, key: str) -> Iterator[Finding]:
    tag = tags.get(name)
    if tag is None:
        yield Finding(loc, _unknown("tag", name, tags))
    elif tag.data_type is DataType.STRING:
        yield Finding(loc, f"{key} needs a numeric tag; {name!r} is a string")


def _duplicate_alarm_ids(config: StationConfig, refs: _Refs) -> Iterator[Finding]:
    # Operators acknowledge and shelve an alarm by its id, so two alarms may not share one.
    first: dict[str, int] = {}
    for a, alarm in enumerate(config.alarms):
        alarm_id = alarm.alarm_id
        if alarm_id not in first:
            first[alarm_id] = a
            continue
        other = refs(("alarms", first[alarm_id]))
        if alarm.id is not None:
            yield Finding(("alarms", a, "id"), f"duplicate alarm id {alarm_id!r} ({other})")
        else:
            yield Finding(
                ("alarms", a),
                f"duplicate alarm id {alarm_id!r} ({other}): two {alarm.kind} alarms on one "
                "tag or device need an explicit id each",
            )


def _unknown(what: str, name: str, known: Collection[str]) -> str:
    match = suggest(name, known)
    return f"unknown {what} {name!r}" + (f" (did you mean {match!r}?)" if match else "")


def _shared_connections(config: StationConfig, refs: _Refs) -> Iterator[Finding]:
    """Devices on one host:port or serial port share a link, so they must configure it alike."""
    first: dict[str, int] = {}
    for d, device in enumerate(config.devices):
        link = _link(device)
        if link is None:
            continue
        if link not in first:
            first[link] = d
            continue
        owner = config.devices[first[link]]
        shared = SERIAL_SHARED if device.driver in SERIAL_DRIVERS else NETWORK_SHARED
        for key in shared:
            mine, theirs = getattr(device, key), getattr(owner, key)
            if mine == theirs:
                continue
            where = refs(("devices", first[link]))
            yield Finding(
                ("devices", d, key),
                f"{key} {_setting(key, mine)} differs from {_setting(key, theirs)} of device "
                f"{owner.id!r} ({where}), which shares {link}",
            )


def _link(device: DeviceConfig) -> str | None:
    """The physical link a device is reached over; None for drivers we cannot reason about."""
    if device.driver in SERIAL_DRIVERS:
        return f"serial port {device.serial_port}" if device.serial_port else None
    if device.driver in NETWORK_DRIVERS:
        host = f"[{device.host}]" if ":" in device.host else device.host  # IPv6 literal
        return f"{host}:{device.port}"
    return None


def _setting(key: str, value: object) -> str:
    if key == "timeout" and isinstance(value, float):
        return format_duration(value)
    return repr(value) if isinstance(value, str) else str(value)
