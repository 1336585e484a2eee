"""`pstg seed`'s product: a station.yaml that reads every register of the simulator correctly.

The tags come straight from the register map (`RegisterMap.points`), so the config cannot
drift from what the simulator serves; the alarms are the ones an operator of such a station
would expect. The text is written by hand rather than dumped, so that it reads like a config
a person wrote: one line per tag, grouped by table, with comments.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from pstg.model import RegisterTable
from pstg.simulator.process import SetPoints, StationDesign
from pstg.simulator.registers import Point, RegisterMap

DEVICE_ID = "plc1"

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
    for table, title in _TABLE_TITLES.items():
        lines.append(f"      # {title}")
        points = sorted(
            (p for p in register_map.points if p.table is table),
            key=lambda p: (p.address, -1 if p.bit is None else p.bit),
        )
        lines.extend(f"      - {_tag_line(point)}" for point in points)
    lines += ["", "alarms:"]
    lines.extend(f"  - {alarm}" for alarm in _alarms(design))
    return "\n".join(lines) + "\n"


def _tag_line(point: Point) -> str:
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
    return "{" + ", ".join(fields) + "}"


def _alarms(design: StationDesign) -> Iterator[str]:
    setpoints = SetPoints()
    level = "wet_well.level"
    yield (
        f"{{tag: {level}, kind: high_high, limit: {design.high_high_float - 0.1:g}, "
        "deadband: 0.05, on_delay: 5s, priority: critical, "
        'message: "Wet well level high-high: overflow imminent"}'
    )
    yield (
        f"{{tag: {level}, kind: high, limit: {setpoints.high_level:g}, deadband: 0.05, "
        'on_delay: 10s, priority: high, message: "Wet well level high"}'
    )
    yield (
        f"{{tag: {level}, kind: low, limit: {setpoints.low_level:g}, deadband: 0.05, "
        'on_delay: 10s, priority: medium, message: "Wet well level low"}'
    )
    yield (
        f"{{tag: {level}, kind: bad_quality, on_delay: 30s, priority: medium, "
        'message: "No valid wet well level"}'
    )
    discrete = [
        ("wet_well.high_high_float", 1, "critical", "0s", "High-high level float switch"),
        ("station.overflow", 1, "critical", "0s", "Station spilling to the emergency overflow"),
        ("station.mains_ok", 0, "high", "5s", "Mains power failure"),
        ("station.generator_running", 1, "low", "0s", "Standby generator running"),
        ("station.door_open", 1, "medium", "0s", "Intrusion: station door open"),
    ]
    for number in range(1, design.pump_count + 1):
        discrete += [
            (f"pump{number}.tripped", 1, "high", "0s", f"Pump {number} tripped"),
            (f"pump{number}.fail_to_start", 1, "high", "0s", f"Pump {number} failed to start"),
        ]
    for tag, value, priority, delay, message in discrete:
        yield (
            f"{{tag: {tag}, kind: discrete, value: {value}, on_delay: {delay}, "
            f"priority: {priority}, message: {_text(message)}}}"
        )
    for number in range(1, design.pump_count + 1):
        # The gateway's own check, a backstop for the PLC's latch (which trips after
        # fail_to_start_time and drops the command): longer, so the PLC's alarm comes first.
        yield (
            f"{{tag: pump{number}.commanded, kind: fail_to_start, feedback: pump{number}.running, "
            f"timeout: 15s, priority: high, message: {_text(f'Pump {number} did not start')}}}"
        )
        yield (
            f"{{tag: pump{number}.running, kind: starts_per_hour, "
            f"limit: {setpoints.max_starts_per_hour}, priority: low, "
            f"message: {_text(f'Pump {number} starting too often')}}}"
        )
    yield (
        f"{{device: {DEVICE_ID}, kind: comm_loss, timeout: 30s, priority: high, "
        'message: "No communication with the station PLC"}'
    )


def _text(value: str) -> str:
    """A YAML scalar for `value`: a JSON string is valid YAML and escapes everything needed."""
    return json.dumps(value, ensure_ascii=False)
