"""`pstg seed`'s product: a station.yaml that reads every register of the simulator correctly.

The tags come straight from the register map (`RegisterMap.points`), so the config cannot
drift from what the simulator serves; the alarms are the ones an operator of such a station
would expect. The text is written by hand rather than dumped, so that it reads like a config
a person wrote: one line per tag (its command block continues it on the next lines), grouped by
table, with comments.

Every writable point gets a `command` block (docs/configuration.md) that agrees with what the
simulated PLC accepts: the set points' min/max are `setpoint_limits`, their interlocks the
PLC's ordering of the levels (`LEVEL_ORDER`), so a command the gateway lets through is one the
PLC takes. The interlocks are stricter in one place only: `above`/`below` are strict, so a lag
start equal to the lead start, or a standby start equal to the lag start (which the PLC
allows), is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from pstg.model import RegisterTable
from pstg.simulator.process import LEVEL_ORDER, Hoa, SetPoints, StationDesign, setpoint_limits
from pstg.simulator.registers import Point, RegisterMap

DEVICE_ID = "plc1"
NO_FLOW = 15.0
"""l/s: a running pump that moves less is running without flow (a healthy one moves 40+)."""
RUN_TOO_LONG = "40m"
"""A dry-weather run lasts up to about 25 minutes; a ragged pump at night runs over an hour."""
CURRENT_BAND = (10.0, 34.0)
"""A: the motor current while running (26 A alone, 19 A with all three; ragged: 39 A)."""
MOTOR_HOT = 65.0
"""°C: a healthy motor settles at about 47 °C, a ragged one climbs towards 90 °C."""
FROZEN_TIMEOUT = "4m"

_TABLE_TITLES = {
    RegisterTable.INPUT_REGISTER: "input registers: measurements, counters, status words, text",
    RegisterTable.HOLDING_REGISTER: "holding registers: set points and selectors (writable)",
    RegisterTable.DISCRETE_INPUT: "discrete inputs: field contacts",
    RegisterTable.COIL: "coils: remote commands (writable)",
}


@dataclass(frozen=True)
class SeedOptions:
    station_id: str = "ls-01"
    host: str = "127.0.0.1"
    port: int = 15020
    unit_id: int = 1
    database_url: str = "sqlite:///pstg.db"
    api_port: int = 8000


def seed_config_text(options: SeedOptions, design: StationDesign | None = None) -> str:
    """The station.yaml text for a simulator reachable as `options` say."""
    design = design or StationDesign()
    register_map = RegisterMap(design)
    lines = [
        "# PSTG station config for the pump station simulator, written by `pstg seed`.",
        "# Start the simulator with `pstg simulate` and the gateway with",
        "# `pstg run -c FILE --migrate` (FILE: this file; --migrate creates the database).",
        "# Every register of the simulator's map (docs/simulator.md) is a tag below.",
        "# Writable tags have a `command` block: set points are an engineer's to change,",
        "# selectors and pump commands an operator's (the defaults; docs/configuration.md).",
        f"station: {{id: {options.station_id}, name: {_text(design.name)}}}",
        f"storage: {{url: {_text(options.database_url)}}}",
        f"api: {{host: 127.0.0.1, port: {options.api_port}}}",
        "",
        "devices:",
        f"  - id: {DEVICE_ID}",
        "    driver: modbus-tcp",
        f"    host: {options.host}",
        f"    port: {options.port}",
        f"    unit_id: {options.unit_id}",
        "    poll_interval: 1s",
        "    timeout: 1s",
        "    tags:",
    ]
    commands = _commands(design)
    for table, title in _TABLE_TITLES.items():
        lines.append(f"      # {title}")
        points = sorted(
            (p for p in register_map.points if p.table is table),
            key=lambda p: (p.address, -1 if p.bit is None else p.bit),
        )
        for point in points:
            if point.writable and point.name not in commands:
                raise ValueError(f"{point.name} is writable: seed.py needs its command block")
            lines.append(f"      - {_tag_line(point, commands.get(point.name))}")
    lines += ["", "alarms:"]
    lines.extend(f"  - {alarm}" for alarm in _alarms(design))
    return "\n".join(lines) + "\n"


def _tag_line(point: Point, command: str | None = None) -> str:
    """The tag as a flow mapping; a command block continues it on the lines below."""
    tag = point.tag()
    fields = [f"name: {tag.name}", f"source: {tag.source.value}", f"address: {tag.address}"]
    if tag.type is not None:
        fields.append(f"type: {tag.type.value}")
    if tag.bit is not None:
        fields.append(f"bit: {tag.bit}")
    if tag.length is not None:
        fields.append(f"length: {tag.length}")
    if tag.word_order is not None:
        fields.append(f"word_order: {tag.word_order.value}")
    if tag.scale != 1.0:
        fields.append(f"scale: {tag.scale:g}")
    if tag.unit:
        fields.append(f"unit: {_text(tag.unit)}")
    if tag.deadband is not None:
        fields.append(f"deadband: {tag.deadband:g}")
    if tag.range is not None:
        fields.append(f"range: [{tag.range[0]:g}, {tag.range[1]:g}]")
    if tag.sentinels:
        fields.append(f"sentinels: [{', '.join(f'0x{s:04X}' for s in tag.sentinels)}]")
    if tag.writable:
        fields.append("writable: true")
    fields.append(f"description: {_text(tag.description)}")
    text = ", ".join(fields)
    if command is not None:
        text += f",\n{_CONTINUED}command: {command}"
    return "{" + text + "}"


_CONTINUED = " " * 9
"""Indent of a tag's continuation lines: one past its opening brace."""


def _commands(design: StationDesign) -> dict[str, str]:
    """The command block of each writable point, by tag name, as flow YAML."""
    limits = setpoint_limits(design, step=0.01)  # the level registers count centimetres
    commands = {}
    for index, key in enumerate(LEVEL_ORDER):
        low, high = limits[key]
        interlocks = []
        if index > 0:
            below = LEVEL_ORDER[index - 1]
            message = f"the {_LEVEL_NAMES[below]} must stay below the {_LEVEL_NAMES[key]}"
            interlocks.append(_interlock(f"setpoint.{below}", "below", "value", message))
        if index < len(LEVEL_ORDER) - 1:
            above = LEVEL_ORDER[index + 1]
            message = f"the {_LEVEL_NAMES[above]} must stay above the {_LEVEL_NAMES[key]}"
            interlocks.append(_interlock(f"setpoint.{above}", "above", "value", message))
        commands[f"setpoint.{key}"] = (
            f"{{min: {low:g}, max: {high:g}, readback: {{tolerance: 0.01}}, interlocks: ["
            + ",".join(f"\n{_CONTINUED}  {interlock}" for interlock in interlocks)
            + "]}"
        )
    fewest, most = limits["max_starts_per_hour"]
    commands["setpoint.max_starts_per_hour"] = f"{{min: {fewest:g}, max: {most:g}}}"
    # Tuning, not operation: one step, an engineer's; float32 keeps about 7 digits.
    low, high = limits["high_pressure"]
    commands["setpoint.high_pressure"] = (
        f"{{mode: direct, min: {low:g}, max: {high:g}, readback: {{tolerance: 0.001}}}}"
    )
    pumps = range(1, design.pump_count + 1)
    commands["station.lead_select"] = _values({n: f"Pump {n}" for n in pumps})
    # A started pump shows running after the start delay and the next poll (1 s).
    start_timeout = f"{design.start_delay + 3:g}s"
    for n in pumps:
        auto = _interlock(f"pump{n}.auto", "equals", "true", f"pump {n} is not in Auto")
        remote = _interlock(f"pump{n}.remote", "equals", "true", f"pump {n} is not in remote mode")
        commands[f"pump{n}.hoa"] = _values({int(h): h.name.capitalize() for h in Hoa})
        commands[f"pump{n}.remote_mode"] = (
            f"{{interlocks: [{auto}], readback: {{tag: pump{n}.remote}}}}"
        )
        commands[f"pump{n}.remote_run"] = (
            f"{{interlocks: [{auto},\n{_CONTINUED}  {remote}],\n{_CONTINUED}  "
            f"readback: {{tag: pump{n}.running, timeout: {start_timeout}}}, min_interval: 5s}}"
        )
        commands[f"pump{n}.fault_reset"] = (
            f"{{pulse: true, readback: {{tag: pump{n}.tripped, equals: 0}}}}"
        )
    return commands


_LEVEL_NAMES = {
    "low_level": "low level alarm",
    "stop": "stop level",
    "lead_start": "lead start level",
    "lag_start": "lag start level",
    "standby_start": "standby start level",
    "high_level": "high level alarm",
}


def _interlock(tag: str, comparison: str, operand: str, message: str) -> str:
    return f"{{tag: {tag}, {comparison}: {operand}, message: {_text(message)}}}"


def _values(labels: dict[int, str]) -> str:
    return "{values: {" + ", ".join(f"{n}: {label}" for n, label in labels.items()) + "}}"


def _alarms(design: StationDesign) -> Iterator[str]:
    setpoints = SetPoints()
    level = "wet_well.level"
    pumps = range(1, design.pump_count + 1)
    yield (
        f"{{tag: {level}, kind: high_high, limit: {design.high_high_float - 0.1:g}, "
        "deadband: 0.05, on_delay: 5s, priority: critical, "
        'message: "Wet well level high-high: overflow imminent"}'
    )
    # The high and low level alarms follow the PLC's set points (limits read from tags).
    yield (
        f"{{tag: {level}, kind: high, limit: {{tag: setpoint.high_level}}, deadband: 0.05, "
        'on_delay: 10s, priority: high, message: "Wet well level high"}'
    )
    yield (
        f"{{tag: {level}, kind: low, limit: {{tag: setpoint.low_level}}, deadband: 0.05, "
        'on_delay: 10s, priority: medium, message: "Wet well level low"}'
    )
    yield (
        f"{{tag: {level}, kind: bad_quality, on_delay: 30s, priority: medium, "
        'message: "Level transmitter fault: no valid wet well level"}'
    )
    # A transmitter that stopped following the well: the level must move while a pump runs
    # (a pump run lasts 5 minutes or more; the transmitter's noise alone is wider than 5 mm).
    running = ", ".join(f"{{tag: pump{n}.running, equals: 1}}" for n in pumps)
    yield (
        f"{{tag: {level}, kind: frozen, band: 0.005, timeout: {FROZEN_TIMEOUT},\n"
        f"     while: {{any: [{running}]}},\n"
        '     priority: high, message: "Level transmitter frozen: no change while pumping"}'
    )
    # Faster than a dry-weather day ever fills the well (0.17 m/min with no pump running):
    # inflow beyond what the pumps move, the first sign of a storm or a failed station.
    yield (
        f"{{tag: {level}, kind: rate_of_change, limit: 0.2, per: 1m, deadband: 0.05, "
        'priority: medium,\n     message: "Wet well filling fast: inflow beyond the pumps"}'
    )
    discrete = [
        ("wet_well.high_high_float", 1, "critical", "0s", "High-high level float switch"),
        ("station.overflow", 1, "critical", "0s", "Station spilling to the emergency overflow"),
        ("station.mains_ok", 0, "high", "5s", "Mains power failure"),
        ("station.generator_running", 1, "low", "0s", "Standby generator running"),
        ("station.door_open", 1, "medium", "0s", "Intrusion: station door open"),
    ]
    for number in pumps:
        discrete += [
            (f"pump{number}.tripped", 1, "high", "0s", f"Pump {number} tripped"),
            (f"pump{number}.fail_to_start", 1, "high", "0s", f"Pump {number} failed to start"),
            (f"pump{number}.auto", 0, "low", "10s", f"Pump {number} not in Auto"),
        ]
    for tag, value, priority, delay, message in discrete:
        yield (
            f"{{tag: {tag}, kind: discrete, value: {value}, on_delay: {delay}, "
            f"priority: {priority}, message: {_text(message)}}}"
        )
    # The generator must carry the station within a minute of a mains failure (it starts in
    # 30 s); mains lost and no generator for 60 s means a flooded well within the hour.
    yield (
        "{id: station.generator_fail, kind: compound, on_delay: 60s, priority: critical,\n"
        "     all: [{tag: station.mains_ok, equals: 0}, "
        "{tag: station.generator_running, equals: 0}],\n"
        '     message: "Generator failed to start on mains loss"}'
    )
    for number in pumps:
        # The gateway's own check, a backstop for the PLC's latch (which trips after
        # fail_to_start_time and drops the command): longer, so the PLC's alarm comes first.
        yield (
            f"{{tag: pump{number}.commanded, kind: fail_to_start, feedback: pump{number}.running, "
            f"timeout: 15s, priority: high, message: {_text(f'Pump {number} did not start')}}}"
        )
        # A remote run the pump did not follow (or whose write got no answer): the operator
        # who sent it must not be the only one who knows.
        yield (
            f"{{tag: pump{number}.remote_run, kind: command_failed, priority: high, "
            f"message: {_text(f'Pump {number} did not follow a remote command')}}}"
        )
        yield (
            f"{{tag: pump{number}.running, kind: starts_per_hour, "
            f"limit: {setpoints.max_starts_per_hour}, priority: low, "
            f"message: {_text(f'Pump {number} starting too often')}}}"
        )
        # Running without flow: a closed valve, an air lock, a ragged or broken impeller. A
        # healthy pump moves 40 l/s or more; the on-delay lets the flow come up after a start.
        yield (
            f"{{id: pump{number}.no_flow, kind: compound, on_delay: 30s, priority: high,\n"
            f"     all: [{{tag: pump{number}.running, equals: 1}}, "
            f"{{tag: pump{number}.flow, below: {NO_FLOW:g}}}],\n"
            f"     message: {_text(f'Pump {number} running without flow')}}}"
        )
        # A dry-weather run lasts at most about 25 minutes; longer is ragging, a blocked
        # impeller or a stuck float (a storm may keep pumps running for hours: that is news).
        yield (
            f"{{tag: pump{number}.running, kind: run_too_long, timeout: {RUN_TOO_LONG}, "
            f"priority: medium, message: {_text(f'Pump {number} running too long')}}}"
        )
        # The current while running: about 26 A alone, 19 A with all three; the band is
        # watched once the pump has run for the on-delay (the suppression holds it while
        # stopped, and a start waits out the on-delay).
        yield (
            f"{{tag: pump{number}.current, kind: out_of_band, low: {CURRENT_BAND[0]:g}, "
            f"high: {CURRENT_BAND[1]:g}, deadband: 1, on_delay: 30s,\n"
            f"     suppress_when: {{tag: pump{number}.running, value: 0}}, priority: medium,\n"
            f"     message: {_text(f'Pump {number} motor current out of band')}}}"
        )
        # A healthy motor settles about 35 °C above the ambient 12 °C.
        yield (
            f"{{tag: pump{number}.motor_temperature, kind: high, limit: {MOTOR_HOT:g}, "
            f"deadband: 2, on_delay: 10s, priority: high,\n"
            f"     message: {_text(f'Pump {number} motor over-temperature')}}}"
        )
    yield (
        f"{{device: {DEVICE_ID}, kind: comm_loss, timeout: 30s, priority: high, "
        'message: "No communication with the station PLC"}'
    )


def _text(value: str) -> str:
    """A YAML scalar for `value`: a JSON string is valid YAML and escapes everything needed."""
    return json.dumps(value, ensure_ascii=False)
