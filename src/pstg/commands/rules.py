"""The checks a command must pass, as pure functions of the config and the live values.

    command_value   the value asked for, as the tag's command block allows it (an enumeration's
                    key or label, a bit, a number within min/max); refused with rule `range`
    interlocks      every interlock on live values holds: a tag with no reading, a reading that
                    is not of good quality, or one older than `stale_after` fails (never assumed)
    follows         whether a read-back reading matches the value expected

The service calls them at selection and again at operate, with the values of that instant.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from pstg.commands.model import CommandValue, refused_conflict, refused_invalid
from pstg.config.models import CommandConfig, DeviceConfig, InterlockConfig, TagConfig
from pstg.model import DataType, Quality, Sample

LiveValue = Callable[[str], Sample | None]
"""The latest reading of a tag by name (the live view's `get`)."""

_TRUE = {"true", "on", "1"}
_FALSE = {"false", "off", "0"}


def command_value(tag: TagConfig, value: CommandValue) -> tuple[CommandValue, str | None]:
    """The value to write for `value` asked of `tag`, and its enumeration label; refused with
    rule `range` when the command block does not allow it."""
    command = tag.command
    assert command is not None
    if command.pulse:
        if _as_number(value) != 1:
            raise refused_invalid(f"{tag.name} is a pulse: the only value is 1 (got {value!r})")
        label = (command.values or {}).get(1)
        return (True if tag.data_type is DataType.BOOL else 1), label
    if tag.data_type is DataType.STRING:
        if not isinstance(value, str):
            raise refused_invalid(f"{tag.name} is text: send a string, not {value!r}")
        return value, None
    if command.values is not None:
        return _enumerated(tag.name, command, value)
    number = _as_number(value)
    if number is None:
        raise refused_invalid(f"{tag.name} takes a number, not {value!r}")
    if tag.data_type is DataType.BOOL:
        if number not in (0, 1):
            raise refused_invalid(f"{tag.name} is a bit: 0/1 or true/false, not {value!r}")
        return bool(number), None
    if command.min is not None and number < command.min:
        raise refused_invalid(
            f"{tag.name}: {number:g} is below the command minimum {command.min:g}"
        )
    if command.max is not None and number > command.max:
        raise refused_invalid(
            f"{tag.name}: {number:g} is above the command maximum {command.max:g}"
        )
    return number, None


def _enumerated(
    name: str, command: CommandConfig, value: CommandValue
) -> tuple[CommandValue, str | None]:
    values = command.values or {}
    number = _as_number(value)
    if number is not None and number.is_integer() and int(number) in values:
        return int(number), values[int(number)]
    if isinstance(value, str):
        by_label = {label.casefold(): key for key, label in values.items()}
        key = by_label.get(value.strip().casefold())
        if key is not None:
            return key, values[key]
    allowed = ", ".join(f"{key} ({label})" for key, label in values.items())
    raise refused_invalid(f"{name} takes one of {allowed}; not {value!r}")


def _as_number(value: CommandValue) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    text = value.strip().casefold()
    if text in _TRUE or text in _FALSE:
        return 1.0 if text in _TRUE else 0.0
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def stale_after(device: DeviceConfig) -> float:
    """Seconds after which a reading of a tag on `device` is stale: three poll intervals and
    the time a poll may take (its requests and their retries)."""
    return 3 * device.poll_interval + device.timeout * (device.retries + 1)


def check_interlocks(
    interlocks: list[InterlockConfig],
    value: CommandValue,
    live: LiveValue,
    stale: Callable[[str], float],
    now: datetime,
) -> None:
    """Every interlock holds for commanding `value` at `now`; refused with rule `interlock`
    (the first one that does not, with its message and what the value is) otherwise.
    `stale(tag)` is the age after which that tag's reading does not count."""
    for interlock in interlocks:
        problem = _interlock_problem(interlock, value, live(interlock.tag), stale, now)
        if problem is not None:
            raise refused_conflict("interlock", f"interlock: {interlock.message} ({problem})")


def _interlock_problem(
    interlock: InterlockConfig,
    value: CommandValue,
    sample: Sample | None,
    stale: Callable[[str], float],
    now: datetime,
) -> str | None:
    name = interlock.tag
    if sample is None or sample.value is None:
        return f"{name} has no reading"
    if sample.quality is not Quality.GOOD:
        return f"{name} is {sample.quality.value} ({sample.reason.value})"
    age = (now - sample.ts).total_seconds()
    if age > stale(name):
        return f"{name} is stale: last read {age:.0f} s ago"
    key, operand = interlock.comparison, interlock.operand
    if operand == "value":
        operand = float(value) if not isinstance(value, str) else value
    held = sample.value
    if key == "equals":
        ok = _same(held, operand)
    elif key == "not_equals":
        ok = not _same(held, operand)
    elif isinstance(held, str) or isinstance(operand, str):
        ok = False  # the config check keeps text out of above/below
    elif key == "above":
        ok = held > operand
    else:
        ok = held < operand
    if ok:
        return None
    words = {"equals": "must equal", "not_equals": "must not equal",
             "above": "must be above", "below": "must be below"}  # fmt: skip
    return f"{name} is {_show(held)}, {words[key]} {_show(operand)}"


def interlock_problem(
    interlock: InterlockConfig,
    value: CommandValue | None,
    sample: Sample | None,
    stale: Callable[[str], float],
    now: datetime,
) -> str | None:
    """Why `interlock` does not hold now (None: it holds), for showing before a command is
    asked; with `value` None an interlock on the commanded value (`above: value`) is judged
    on its tag's reading alone."""
    if value is None and interlock.operand == "value":
        if sample is None or sample.value is None:
            return f"{interlock.tag} has no reading"
        if sample.quality is not Quality.GOOD:
            return f"{interlock.tag} is {sample.quality.value} ({sample.reason.value})"
        age = (now - sample.ts).total_seconds()
        if age > stale(interlock.tag):
            return f"{interlock.tag} is stale: last read {age:.0f} s ago"
        return None
    return _interlock_problem(interlock, value if value is not None else 0, sample, stale, now)


def _same(held: float | str, operand: float | str) -> bool:
    if isinstance(held, str) or isinstance(operand, str):
        return held == operand
    return math.isclose(held, operand, rel_tol=1e-9, abs_tol=1e-9)


def _show(value: float | str) -> str:
    return repr(value) if isinstance(value, str) else f"{value:g}"


def follows(reading: float | str | None, expected: CommandValue, tolerance: float) -> bool:
    """Whether a read-back `reading` matches `expected` within `tolerance` (a bit: both zero
    or both non-zero; text: equal)."""
    if reading is None:
        return False
    if isinstance(expected, str) or isinstance(reading, str):
        return reading == expected
    if isinstance(expected, bool):
        return (reading != 0) == expected
    # Scaling by 0.01 makes 12.5 come back as 12.500000000000002: a hair is not a miss.
    return abs(reading - expected) <= tolerance + 1e-9 * max(1.0, abs(expected))
