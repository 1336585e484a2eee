"""The station overview's process picture, found in the config rather than drawn by hand.

A lift station's config names things the same way from site to site (docs/console.md):

- the **wet well level**: the numeric tag with a `range` whose name ends in `level` (or whose
  description starts "Wet well level"); its limit alarms (`high_high`, `high`, `low`,
  `low_low`) are drawn on the bar, and so are the **set points**: the writable numeric tags
  in the level's unit whose name or description says level, start or stop;
- the **pumps**: each name prefix (`pump1.`, `p2.`) that has a `.running` tag; their status
  bits by suffix (`running`, `tripped`, `fail_to_start`, `auto`, `in_hand`, `in_off`,
  `remote`, `available`) and every other numeric tag of the prefix with a unit
  (current, power, flow, temperature...), and their commandable tags;
- the **station**: the other numeric tags with a unit (inflow, outflow, pressure...) and the
  other bits (mains, generator, door, overflow...). A bit is abnormal in the value its
  `discrete` alarm watches for; one without such an alarm is only shown.

Anything not found is left out; nothing here knows the simulator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pstg.config.models import StationConfig, TagConfig
from pstg.model import DataType

PUMP_PREFIX = re.compile(r"^((?:pump|p|pmp)\d+)\.", re.IGNORECASE)
STATUS_BITS = ("running", "tripped", "fail_to_start", "auto", "in_hand", "in_off", "remote",
               "available")  # fmt: skip
STATUS_LABELS = {
    "running": "Running", "tripped": "Tripped", "fail_to_start": "Fail to start",
    "auto": "Auto", "in_hand": "Hand", "in_off": "Off", "remote": "Remote",
    "available": "Available",
}  # fmt: skip
ABNORMAL_WHEN = {"tripped": 1.0, "fail_to_start": 1.0, "available": 0.0}
"""Pump bits abnormal by their meaning even without an alarm."""
LEVEL_LIMITS = ("high_high", "high", "low", "low_low")
SETPOINT_WORDS = ("level", "start", "stop")


@dataclass(frozen=True)
class Shown:
    """One value on the picture."""

    tag: str
    label: str
    unit: str = ""
    kind: str = "number"
    """number, bit or text."""
    abnormal: float | None = None
    """For a bit: the value that is abnormal (colour); None: never coloured."""
    commandable: bool = False


@dataclass(frozen=True)
class Mark:
    """A line across the level bar: a set point (live value) or an alarm limit (fixed)."""

    label: str
    tag: str | None = None
    value: float | None = None
    kind: str = "setpoint"
    """setpoint or limit."""
    priority: str | None = None
    commandable: bool = False


@dataclass
class Level:
    tag: str
    label: str
    unit: str
    low: float
    high: float
    marks: list[Mark] = field(default_factory=list)


@dataclass
class Pump:
    name: str
    label: str
    bits: list[Shown] = field(default_factory=list)
    values: list[Shown] = field(default_factory=list)
    commands: list[Shown] = field(default_factory=list)


@dataclass
class Picture:
    station: str
    level: Level | None
    pumps: list[Pump]
    measurements: list[Shown]
    signals: list[Shown]
    commands: list[Shown]
    """Commandable tags that belong to no pump and are not level set points."""


def picture_of(config: StationConfig) -> Picture:
    tags = [tag for device in config.devices for tag in device.tags]
    by_name = {tag.name: tag for tag in tags}
    discrete_alarm = {
        alarm.tag: alarm.value
        for alarm in config.alarms
        if alarm.kind == "discrete" and alarm.tag is not None
    }
    used: set[str] = set()

    level_tag = _find_level(tags)
    level = None
    if level_tag is not None and level_tag.range is not None:
        used.add(level_tag.name)
        level = Level(level_tag.name, _label(level_tag), level_tag.unit, *level_tag.range)
        for tag in tags:
            if _is_setpoint(tag, level_tag):
                used.add(tag.name)
                level.marks.append(
                    Mark(_label(tag), tag=tag.name, commandable=tag.command is not None)
                )
        for alarm in config.alarms:
            if alarm.tag == level_tag.name and alarm.kind in LEVEL_LIMITS:
                limit = alarm.limit
                assert limit is not None
                label = alarm.kind.replace("_", "-").capitalize() + " alarm"
                # A limit read from a tag (the PLC's set point) moves with that tag's value.
                fixed, follows = (limit, None) if isinstance(limit, float) else (None, limit.tag)
                level.marks.append(
                    Mark(label, tag=follows, value=fixed, kind="limit", priority=alarm.priority)
                )

    prefixes = sorted(
        {m.group(1) for tag in tags if (m := PUMP_PREFIX.match(tag.name))
         and tag.name == f"{m.group(1)}.running"},
        key=_natural,
    )  # fmt: skip
    pumps = []
    for prefix in prefixes:
        pump = Pump(prefix, _pump_label(prefix))
        own = [tag for tag in tags if tag.name.startswith(prefix + ".")]
        for suffix in STATUS_BITS:
            bit = by_name.get(f"{prefix}.{suffix}")
            if bit is not None and bit.data_type is DataType.BOOL and bit.command is None:
                abnormal = discrete_alarm.get(bit.name, ABNORMAL_WHEN.get(suffix))
                pump.bits.append(Shown(bit.name, STATUS_LABELS[suffix], kind="bit",
                                       abnormal=abnormal))  # fmt: skip
        for tag in own:
            used.add(tag.name)
            if tag.command is not None:
                pump.commands.append(Shown(tag.name, _short(tag, prefix), tag.unit,
                                           _kind(tag), commandable=True))  # fmt: skip
            elif tag.unit and _kind(tag) == "number":
                pump.values.append(Shown(tag.name, _short(tag, prefix), tag.unit))
        pumps.append(pump)

    measurements, signals, commands = [], [], []
    for tag in tags:
        if tag.name in used:
            continue
        if tag.command is not None:
            commands.append(Shown(tag.name, _label(tag), tag.unit, _kind(tag), commandable=True))
        elif _kind(tag) == "number" and tag.unit:
            measurements.append(Shown(tag.name, _label(tag), tag.unit))
        elif _kind(tag) == "bit" and tag.source.is_bit_table:
            signals.append(Shown(tag.name, _label(tag), kind="bit",
                                 abnormal=discrete_alarm.get(tag.name)))  # fmt: skip
    return Picture(config.station.name or config.station.id, level, pumps, measurements,
                   signals, commands)  # fmt: skip


def _find_level(tags: list[TagConfig]) -> TagConfig | None:
    candidates = [
        tag for tag in tags
        if _kind(tag) == "number" and tag.range is not None and not tag.writable
        and (tag.name.casefold().endswith("level")
             or tag.description.casefold().startswith("wet well level"))
    ]  # fmt: skip
    candidates.sort(key=lambda tag: (tag.unit == "%", "well" not in tag.name.casefold()))
    return candidates[0] if candidates else None


def _is_setpoint(tag: TagConfig, level: TagConfig) -> bool:
    if not tag.writable or _kind(tag) != "number" or tag.unit != level.unit:
        return False
    words = (tag.name + " " + tag.description).casefold()
    return any(word in words for word in SETPOINT_WORDS)


def _kind(tag: TagConfig) -> str:
    if tag.data_type is DataType.BOOL:
        return "bit"
    if tag.data_type is DataType.STRING:
        return "text"
    if tag.command is not None and tag.command.values is not None:
        return "enum"
    return "number"


def _label(tag: TagConfig, text: str | None = None) -> str:
    """The description up to a parenthesis, a semicolon or a colon (what follows explains
    it), else the name."""
    text = re.split(r"\s*[(;]|:\s", tag.description if text is None else text)[0].strip()
    return text or tag.name


def _short(tag: TagConfig, prefix: str) -> str:
    """A pump's tag label without "Pump 1" in front."""
    text = tag.description
    pump = _pump_label(prefix)
    for start in (pump + ": ", pump + " "):
        if text.casefold().startswith(start.casefold()):
            text = text[len(start) :]
            break
    label = _label(tag, text)
    return label[:1].upper() + label[1:]


def _pump_label(prefix: str) -> str:
    number = re.sub(r"\D", "", prefix)
    return f"Pump {number}" if number else prefix


def _natural(prefix: str) -> tuple[str, int]:
    digits = re.sub(r"\D", "", prefix)
    return re.sub(r"\d", "", prefix), int(digits or 0)
