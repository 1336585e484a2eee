"""Pump curve, system curve and motor maths of the reference station."""

import math
from dataclasses import replace

import pytest

from pstg.simulator.process import StationDesign, hydraulics

DESIGN = StationDesign()


@pytest.mark.parametrize(
    ("running", "litres_per_second"),
    [(1, 45.0), (2, 65.9), (3, 74.2)],  # at 2 m: parallel pumps add less and less
)
def test_parallel_pumps_at_two_metres(running, litres_per_second):
    flow = hydraulics.total_flow(DESIGN, running, level=2.0)
    assert flow * 1000 == pytest.approx(litres_per_second, abs=0.2)


def test_duty_point_is_where_pump_curve_meets_system_curve():
    for running in (1, 2, 3):
        point = hydraulics.duty_point(DESIGN, running, level=2.0)
        total = point.flow * running
        system_head = (DESIGN.discharge_static_head - 2.0) + DESIGN.system_friction * total**2
        assert point.head == pytest.approx(system_head)
        assert point.head == pytest.approx(
            DESIGN.shutoff_head - DESIGN.pump_curve_k * point.flow**2
        )


def test_one_pump_draws_about_sixteen_kilowatts():
    point = hydraulics.duty_point(DESIGN, 1, level=2.0)
    hydraulic_kw = 1000 * 9.81 * point.flow * point.head / 1000
    assert point.power == pytest.approx(hydraulic_kw / DESIGN.pump_efficiency)
    assert point.power == pytest.approx(15.7, abs=0.1)
    # P = √3 · V · I · cos φ
    assert math.sqrt(3) * 400 * point.current * 0.86 / 1000 == pytest.approx(point.power)
    assert point.current == pytest.approx(26.4, abs=0.1)


def test_a_fuller_well_means_less_lift_and_more_flow():
    flows = [hydraulics.total_flow(DESIGN, 1, level) for level in (0.5, 1.5, 2.5, 3.5)]
    assert flows == sorted(flows)
    assert flows[0] < flows[-1]


def test_no_flow_when_the_static_head_reaches_shutoff():
    weak = replace(DESIGN, shutoff_head=19.0)  # cannot lift 20 m minus a metre of water
    assert hydraulics.total_flow(weak, 2, level=0.5) == 0.0
    point = hydraulics.duty_point(weak, 2, level=0.5)
    assert point.flow == 0.0
    assert point.head == pytest.approx(19.0)
    assert hydraulics.duty_point(DESIGN, 0, level=2.0) == hydraulics.STOPPED


def test_header_pressure_holds_the_static_column_when_stopped():
    static_bar = hydraulics.header_pressure_bar(DESIGN, level=2.0, flow=0.0)
    assert static_bar == pytest.approx(18.0 * 1000 * 9.81 / 1e5)
    pumping_bar = hydraulics.header_pressure_bar(DESIGN, level=2.0, flow=0.045)
    assert pumping_bar - static_bar == pytest.approx(2000 * 0.045**2 * 9810 / 1e5)


def test_first_order_covers_63_percent_in_one_time_constant():
    assert hydraulics.first_order(12.0, 47.0, dt=1200.0, time_constant=1200.0) == pytest.approx(
        12.0 + 35.0 * (1 - math.exp(-1))
    )
    halfway = hydraulics.first_order(12.0, 47.0, dt=600.0, time_constant=1200.0)
    assert hydraulics.first_order(halfway, 47.0, 600.0, 1200.0) == pytest.approx(
        hydraulics.first_order(12.0, 47.0, 1200.0, 1200.0)
    )
