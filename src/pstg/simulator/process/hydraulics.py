"""Steady-state hydraulics of identical pumps in parallel on one force main, and motor maths.

Pure functions of the plant (`PumpSystem`, which `StationDesign` satisfies) and the wet-well
level. The flows settle in well under a second in a real station, so each simulation step
solves for the operating point instead of integrating the water column's inertia.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Protocol

RHO = 1000.0  # kg/m³, sewage is close enough to water
G = 9.81  # m/s²
_PASCAL_PER_BAR = 1e5
_SQRT3 = math.sqrt(3.0)


class PumpSystem(Protocol):
    """The plant data the hydraulics needs (read-only, so a frozen dataclass fits)."""

    @property
    def discharge_static_head(self) -> float: ...  # m, sump floor to force main outlet
    @property
    def shutoff_head(self) -> float: ...  # m, head of one pump at zero flow
    @property
    def pump_curve_k(self) -> float: ...  # s²/m⁵, H = shutoff_head - k·q²
    @property
    def system_friction(self) -> float: ...  # s²/m⁵, friction head r·Q²
    @property
    def pump_efficiency(self) -> float: ...  # wire-to-water
    @property
    def supply_voltage(self) -> float: ...  # V, line to line
    @property
    def power_factor(self) -> float: ...


class DutyPoint(NamedTuple):
    """Where each of the running pumps operates."""

    flow: float  # m³/s delivered by one pump
    head: float  # m
    power: float  # kW electrical, one pump
    current: float  # A, one pump


STOPPED = DutyPoint(0.0, 0.0, 0.0, 0.0)


def static_head(system: PumpSystem, level: float) -> float:
    """Metres the pumps lift before any friction: the water surface to the outlet."""
    return system.discharge_static_head - level


def total_flow(system: PumpSystem, running: int, level: float) -> float:
    """m³/s that `running` pumps together push up the force main.

    n identical pumps in parallel act as one pump with curve H = H0 - k·(Q/n)², which meets the
    system curve H = static + r·Q² where Q² = (H0 - static) / (k/n² + r).
    """
    if running <= 0:
        return 0.0
    margin = system.shutoff_head - static_head(system, level)
    if margin <= 0.0:
        return 0.0  # the pumps cannot open the check valves against the static column
    return math.sqrt(margin / (system.pump_curve_k / (running * running) + system.system_friction))


def pump_head(system: PumpSystem, flow_per_pump: float) -> float:
    """The pump curve: head one pump develops at `flow_per_pump` m³/s."""
    return system.shutoff_head - system.pump_curve_k * flow_per_pump * flow_per_pump


def electrical_power_kw(flow: float, head: float, efficiency: float) -> float:
    """kW drawn from the supply to deliver `flow` m³/s at `head` m."""
    return RHO * G * flow * head / efficiency / 1000.0


def line_current(power_kw: float, voltage: float, power_factor: float) -> float:
    """A per phase of a balanced three-phase motor drawing `power_kw`."""
    return power_kw * 1000.0 / (_SQRT3 * voltage * power_factor)


def duty_point(system: PumpSystem, running: int, level: float) -> DutyPoint:
    """The operating point of each of `running` pumps at wet-well `level`."""
    if running <= 0:
        return STOPPED
    flow = total_flow(system, running, level) / running
    head = pump_head(system, flow)
    power = electrical_power_kw(flow, head, system.pump_efficiency)
    return DutyPoint(
        flow, head, power, line_current(power, system.supply_voltage, system.power_factor)
    )


def header_pressure_bar(system: PumpSystem, level: float, flow: float) -> float:
    """Gauge pressure at the discharge header, bar.

    With no flow the check valves hold the static column, so the header still reads it.
    """
    head = static_head(system, level) + system.system_friction * flow * flow
    return head * RHO * G / _PASCAL_PER_BAR


def first_order(value: float, target: float, dt: float, time_constant: float) -> float:
    """`value` after relaxing towards `target` for `dt` seconds (exact for a constant target)."""
    return target + (value - target) * math.exp(-dt / time_constant)
