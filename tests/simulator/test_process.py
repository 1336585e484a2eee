"""The lift station process model: physics, level control, faults, power and scenarios."""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from pstg.simulator.process import (
    Hoa,
    ProcessScenario,
    PumpStation,
    SetPoints,
    StationDesign,
)

DESIGN = StationDesign()
DAY = 86_400


def run_until(
    station: PumpStation, condition: Callable[[], bool], within: float, dt: float = 1.0
) -> float:
    """Step until `condition` holds; the elapsed time it took. Fails after `within` seconds."""
    began = station.elapsed
    while not condition():
        assert station.elapsed - began < within, "condition not reached in time"
        station.step(dt)
    return station.elapsed - began


def running(station: PumpStation) -> list[int]:
    return [pump.number for pump in station.pumps if pump.running]


def assert_mass_balance(station: PumpStation) -> None:
    stored = DESIGN.wet_well_area * (station.level - station.initial_level)
    balance = station.inflow_volume - station.pumped_volume - station.overflow_volume
    assert balance == pytest.approx(stored, rel=1e-6, abs=1e-6 * station.inflow_volume)


# --- one normal day, simulated once for several tests --------------------------------------


@dataclass
class Day:
    station: PumpStation
    wall_seconds: float
    lowest: float = math.inf
    highest: float = -math.inf
    start_times: dict[int, list[float]] = field(default_factory=dict)
    cycle_leads: list[int] = field(default_factory=list)  # lead pump as each cycle began


@pytest.fixture(scope="module")
def normal_day() -> Day:
    station = PumpStation(seed=11)
    started = time.perf_counter()
    for _ in range(DAY):
        station.step(1.0)
    wall = time.perf_counter() - started

    # The same day again, now watching every step (the seed makes it the same day).
    watched = PumpStation(seed=11)
    day = Day(watched, wall, start_times={pump.number: [] for pump in watched.pumps})
    starts = [0] * len(watched.pumps)
    for _ in range(DAY):
        demand_before = watched.demand
        watched.step(1.0)
        day.lowest = min(day.lowest, watched.level)
        day.highest = max(day.highest, watched.level)
        if demand_before == 0 and watched.demand > 0:
            day.cycle_leads.append(watched.lead_pump)
        for index, pump in enumerate(watched.pumps):
            if pump.starts != starts[index]:
                starts[index] = pump.starts
                day.start_times[pump.number].append(watched.elapsed)
    assert watched.level == station.level
    return day


def test_mass_balance_holds_over_a_day(normal_day):
    station = normal_day.station
    assert station.inflow_volume == pytest.approx(DESIGN.base_inflow * DAY, rel=0.05)
    assert station.overflow_volume == 0.0
    assert_mass_balance(station)


def test_normal_day_keeps_the_level_between_stop_and_high_level(normal_day):
    setpoints = normal_day.station.setpoints
    assert normal_day.lowest >= setpoints.stop - 0.05
    assert normal_day.highest <= setpoints.high_level
    assert normal_day.highest >= setpoints.lead_start  # it did pump on level


def test_normal_day_respects_the_starts_limit(normal_day):
    limit = normal_day.station.setpoints.max_starts_per_hour
    for times in normal_day.start_times.values():
        for first, start in enumerate(times):
            in_the_hour = [t for t in times[first:] if t < start + 3600]
            assert len(in_the_hour) <= limit


def test_lead_rotates_so_every_pump_runs(normal_day):
    station = normal_day.station
    assert all(pump.starts > 10 and pump.run_seconds > 3600 for pump in station.pumps)
    leads = normal_day.cycle_leads
    assert len(leads) > 20
    assert all(this != following for this, following in pairwise(leads))
    assert set(leads) == {1, 2, 3}


def test_energy_and_motor_temperature_accumulate(normal_day):
    station = normal_day.station
    kwh_per_m3 = station.energy_kwh / station.pumped_volume
    assert 0.08 < kwh_per_m3 < 0.12  # about 16 kW for 45 l/s
    total_hours = sum(pump.run_hours for pump in station.pumps)
    assert total_hours * 3600 * 0.04 == pytest.approx(station.pumped_volume, rel=0.15)
    for pump in station.pumps:
        assert (
            DESIGN.ambient_temperature <= pump.motor_temperature < DESIGN.ambient_temperature + 35
        )


# --- hydraulics in the station ------------------------------------------------------------


@pytest.mark.parametrize(("pumps", "litres_per_second"), [(1, 45.0), (2, 65.9), (3, 74.2)])
def test_pumps_in_hand_deliver_the_design_flows(pumps, litres_per_second):
    station = PumpStation(initial_level=2.0)
    for number in range(1, pumps + 1):
        station.set_hoa(number, Hoa.HAND)
    for number in range(pumps + 1, 4):
        station.set_hoa(number, Hoa.OFF)
    station.advance(DESIGN.start_delay)
    assert running(station) == list(range(1, pumps + 1))
    assert station.outflow * 1000 == pytest.approx(litres_per_second, abs=0.5)
    assert sum(pump.flow for pump in station.pumps) == pytest.approx(station.outflow)
    static_bar = (DESIGN.discharge_static_head - station.level) * 9810 / 1e5
    assert station.discharge_pressure > static_bar


# --- level control ------------------------------------------------------------------------


def test_demand_latches_upwards_and_drops_at_stop():
    station = PumpStation(initial_level=2.3)
    station.step(1.0)
    assert station.demand == 2  # above lag_start
    station.advance(DESIGN.start_delay)
    assert running(station) == [1, 2]
    run_until(station, lambda: station.level < station.setpoints.lead_start, within=3600)
    assert station.demand == 2  # still latched below the start levels
    run_until(station, lambda: station.demand == 0, within=3600)
    assert station.level <= station.setpoints.stop
    assert running(station) == []
    assert station.rotation == [2, 3, 1]  # the lead ran, so it went to the back


def test_starts_limit_makes_the_next_pump_lead():
    station = PumpStation(setpoints=SetPoints(max_starts_per_hour=1), initial_level=1.79)
    run_until(station, lambda: running(station) == [1], within=600)
    run_until(station, lambda: station.demand == 0, within=3600)
    station.set_lead(1)  # pump 1 would lead again, but has used its start for the hour
    assert not station.pumps[0].available
    assert station.pumps[0].status_word & 1 << 7 == 0
    run_until(station, lambda: running(station) != [], within=3600)
    assert running(station) == [2]
    assert station.pumps[1].available  # at its limit now, but a running pump stays available
    assert station.pumps[0].starts == 1


def test_standby_takes_over_a_tripped_pump_within_the_start_delay():
    station = PumpStation(initial_level=1.79)
    run_until(station, lambda: running(station) == [1], within=600)
    station.trip(1)
    assert running(station) == []
    assert station.pump_fault_alarm
    assert station.common_alarm
    assert station.pumps[1].commanded  # the standby is asked at once
    station.advance(DESIGN.start_delay - 1)
    assert running(station) == []
    station.step(1.0)
    assert running(station) == [2]

    station.reset_faults(1)
    station.advance(10)
    assert not station.pump_fault_alarm
    assert station.pumps[0].available
    assert running(station) == [2]  # no needless swap back


def test_fail_to_start_latches_and_the_next_pump_runs():
    station = PumpStation(initial_level=1.79)
    station.seize(1)
    run_until(station, lambda: station.pumps[0].commanded, within=600)
    commanded_at = station.elapsed
    run_until(station, lambda: station.pumps[0].fail_to_start, within=60)
    assert station.elapsed - commanded_at == pytest.approx(DESIGN.fail_to_start_time)
    pump = station.pumps[0]
    assert not pump.running
    assert not pump.commanded
    assert pump.starts == 0
    assert pump.status_word & (1 << 5)
    assert station.pumps[1].commanded  # at the moment the fault latched
    station.advance(DESIGN.start_delay)
    assert running(station) == [2]

    station.reset_faults()
    assert not pump.fail_to_start
    assert not pump.seized
    assert not station.pump_fault_alarm


def test_hand_runs_regardless_of_level_but_stops_on_the_low_float():
    station = PumpStation(initial_level=1.0)  # below every start level
    station.set_hoa(1, Hoa.HAND)
    station.advance(DESIGN.start_delay)
    assert running(station) == [1]
    assert station.demand == 0
    run_until(station, lambda: station.low_float, within=3600)
    station.step(1.0)
    assert running(station) == []
    assert not station.pumps[0].commanded
    assert station.common_alarm
    starts = station.pumps[0].starts
    lowest = math.inf
    for _ in range(600):
        station.step(1.0)
        lowest = min(lowest, station.level)
    assert lowest > DESIGN.low_float - 0.01
    # It restarts once the float has lifted by its differential, not every few seconds.
    assert 1 <= station.pumps[0].starts - starts <= 8


def test_off_never_runs_even_when_the_well_fills():
    station = PumpStation()
    for number in (1, 2, 3):
        station.set_hoa(number, Hoa.OFF)
    station.set_scenario(ProcessScenario.STORM)
    run_until(station, lambda: station.high_high_float, within=3 * 3600)
    assert station.demand == 3
    assert all(pump.starts == 0 and not pump.commanded for pump in station.pumps)
    assert station.pumps[0].status_word == 1 << 3


def test_remote_commands_only_in_auto_with_remote_mode():
    station = PumpStation()
    assert station.command_remote_run(1, True) is False  # Auto, not remote
    station.set_hoa(2, Hoa.HAND)
    station.set_remote_mode(2, True)
    assert station.command_remote_run(2, True) is False  # remote, but in Hand
    assert station.remote_commands_rejected == 2
    assert not station.pumps[0].remote_run
    assert not station.pumps[1].remote_run

    station.set_remote_mode(3, True)
    assert not station.pumps[2].available  # level control leaves it alone
    assert station.command_remote_run(3, True) is True
    assert station.remote_commands_rejected == 2
    station.advance(DESIGN.start_delay)
    assert 3 in running(station)  # although the level is below every start level
    assert station.pumps[2].status_word & (1 << 6)

    station.command_remote_run(3, False)
    station.step(1.0)
    assert 3 not in running(station)


# --- power -------------------------------------------------------------------------------------


def test_power_failure_generator_carries_two_pumps_then_cools_down():
    station = PumpStation(initial_level=2.7)  # all three pumps wanted
    station.advance(DESIGN.start_delay + 1)
    assert running(station) == [1, 2, 3]

    station.set_scenario(ProcessScenario.POWER_FAILURE)
    station.step(1.0)
    assert running(station) == []
    assert not station.power_available
    assert station.common_alarm
    station.advance(DESIGN.generator_start_delay - 2)
    assert not station.generator_running
    station.step(1.0)
    assert station.generator_running
    assert station.on_generator

    most = 0
    while not station.mains_ok:
        station.step(1.0)
        most = max(most, len(running(station)))
    assert most == DESIGN.generator_max_pumps
    assert station.elapsed == pytest.approx(3 + DESIGN.power_outage_duration)
    assert station.generator_running
    assert not station.on_generator
    station.advance(DESIGN.generator_cooldown - 1)
    assert station.generator_running
    station.step(1.0)
    assert not station.generator_running
    assert_mass_balance(station)


def test_no_power_at_all_stops_every_pump():
    station = PumpStation(StationDesign(generator_max_pumps=0), initial_level=2.3)
    station.advance(DESIGN.start_delay + 1)
    station.set_scenario(ProcessScenario.POWER_FAILURE)
    run_until(station, lambda: station.demand == 3, within=1800)
    assert running(station) == []
    assert station.level >= station.setpoints.standby_start
    station.set_scenario(ProcessScenario.NORMAL)  # mains back
    station.advance(DESIGN.start_delay + 1)
    assert running(station) == [1, 2, 3]


# --- scenarios ---------------------------------------------------------------------------------


def test_storm_reaches_high_level_then_high_high_then_overflows():
    station = PumpStation()
    station.set_scenario(ProcessScenario.STORM)
    to_high = run_until(station, lambda: station.high_level_alarm, within=3600)
    to_high_high = run_until(station, lambda: station.high_high_float, within=3600)
    run_until(station, lambda: station.overflowing, within=3600)
    assert to_high > 0
    assert to_high_high > 0
    assert len(running(station)) == 3
    assert station.inflow > station.outflow
    station.advance(600)
    assert station.level == DESIGN.overflow_level
    assert station.overflow_volume > 10
    assert_mass_balance(station)


def test_pump_fault_scenario_trips_lead_seizes_next_and_third_takes_over():
    station = PumpStation(initial_level=1.5)
    station.set_scenario(ProcessScenario.PUMP_FAULT)
    run_until(station, lambda: running(station) == [3], within=3600)
    one, two, _ = station.pumps
    assert one.tripped
    assert two.fail_to_start
    assert one.starts == two.starts == 0

    station.set_scenario(ProcessScenario.NORMAL)
    assert one.tripped  # latched faults wait for an operator
    assert two.fail_to_start
    station.reset_faults()
    assert not station.pump_fault_alarm


def test_pump_fault_trips_a_running_lead_at_once():
    station = PumpStation(initial_level=1.79)
    run_until(station, lambda: running(station) == [1], within=600)
    station.set_scenario(ProcessScenario.PUMP_FAULT)
    assert station.pumps[0].tripped
    assert running(station) == []
    station.set_scenario(ProcessScenario.NORMAL)  # before pump 2 is ever asked to run
    assert not station.pumps[1].seized
    run_until(station, lambda: running(station) == [2], within=DESIGN.start_delay + 1)


# --- determinism ------------------------------------------------------------------------------


def trajectory(seed: int) -> list[tuple[float, float, float, bool, tuple[int, ...]]]:
    station = PumpStation(seed=seed, start=datetime(2026, 1, 5, 6, tzinfo=UTC))
    samples = []
    for second in range(6 * 3600):
        if second == 3 * 3600:
            station.set_scenario(ProcessScenario.STORM)
        station.step(1.0)
        if second % 60 == 0:
            samples.append(
                (
                    station.level,
                    station.level_measured,
                    station.inflow,
                    station.door_open,
                    tuple(pump.status_word for pump in station.pumps),
                )
            )
    return samples


def test_same_seed_same_trajectory_different_seed_different():
    first = trajectory(seed=4)
    assert first == trajectory(seed=4)
    assert first != trajectory(seed=5)


# --- API contract --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lead_start": 0.7}, r"lead_start \(0\.70 m\) must be above stop \(0\.80 m\)"),
        ({"stop": 0.4}, r"stop \(0\.40 m\) must be above the low float \(0\.50 m\)"),
        ({"lag_start": 1.7}, r"lag_start \(1\.70 m\) must not be below lead_start \(1\.80 m\)"),
        ({"standby_start": 2.1}, r"standby_start \(2\.10 m\) must not be below lag_start"),
        ({"high_level": 2.5}, r"high_level \(2\.50 m\) must be above standby_start"),
        ({"high_level": 5.5}, r"high_level \(5\.50 m\) must not be above the well depth"),
        ({"low_level": 0.9}, r"low_level \(0\.90 m\) must be below stop"),
        ({"max_starts_per_hour": 0}, r"max_starts_per_hour \(0\) must be a whole number"),
        ({"max_starts_per_hour": 2.5}, r"max_starts_per_hour \(2\.5\)"),
        ({"lead_start": math.nan}, r"lead_start \(nan m\)"),
        ({"levle": 1.0}, r"no set point 'levle'"),
    ],
)
def test_setpoint_changes_are_validated_as_a_whole(changes, message):
    station = PumpStation()
    before = SetPoints()
    with pytest.raises(ValueError, match=message):
        station.update_setpoints(**changes)
    assert station.setpoints == before


def test_setpoints_change_together():
    station = PumpStation()
    # Moving both up only works as one change: lead above the old lag_start would fail alone.
    station.update_setpoints(lead_start=2.4, lag_start=2.5, max_starts_per_hour=4.0)
    assert (station.setpoints.lead_start, station.setpoints.lag_start) == (2.4, 2.5)
    assert station.setpoints.max_starts_per_hour == 4
    with pytest.raises(ValueError, match="lead_start"):
        PumpStation(setpoints=SetPoints(lead_start=0.7))


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.set_hoa(4, Hoa.OFF),
        lambda s: s.set_remote_mode(0, True),
        lambda s: s.command_remote_run(4, True),
        lambda s: s.reset_faults(4),
        lambda s: s.trip(-1),
        lambda s: s.seize(4),
        lambda s: s.set_lead(4),
    ],
)
def test_bad_pump_numbers_are_refused(call):
    station = PumpStation()
    with pytest.raises(ValueError, match=r"^no pump -?\d: the station has pumps 1-3$"):
        call(station)
    assert station.remote_commands_rejected == 0


@pytest.mark.parametrize("dt", [0.0, -1.0, 1.5, math.nan, math.inf])
def test_step_refuses_a_bad_dt(dt):
    with pytest.raises(ValueError, match="dt"):
        PumpStation().step(dt)


def test_advance_takes_whole_steps_then_the_rest():
    station = PumpStation(start=datetime(2026, 6, 1, 12, tzinfo=UTC))
    station.advance(2.5)
    assert station.elapsed == 2.5
    assert station.time == datetime(2026, 6, 1, 12, tzinfo=UTC) + timedelta(seconds=2.5)
    assert PumpStation().time == datetime(2026, 1, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        PumpStation(start=datetime(2026, 1, 5))


def test_set_lead_rotates_the_duty_order():
    station = PumpStation()
    station.set_lead(3)
    assert station.rotation == [3, 1, 2]
    assert station.lead_pump == 3


def test_status_word_bits():
    station = PumpStation(initial_level=1.79)
    run_until(station, lambda: running(station) == [1], within=600)
    # running, Auto, available, commanded
    assert station.pumps[0].status_word == 1 | 1 << 1 | 1 << 7 | 1 << 8
    station.set_hoa(2, Hoa.HAND)
    station.trip(2)
    assert station.pumps[1].status_word == 1 << 2 | 1 << 4


@pytest.mark.parametrize("pumps", [1, 2, 4])
def test_other_pump_counts(pumps):
    station = PumpStation(StationDesign(pump_count=pumps), initial_level=2.7)
    station.advance(DESIGN.start_delay + 1)
    assert running(station) == list(range(1, min(pumps, 3) + 1))
    with pytest.raises(ValueError, match="pump_count"):
        StationDesign(pump_count=5)


# --- the faults behind the alarm rules' scenarios ---------------------------------------------


def test_generator_fail_leaves_the_station_without_power_for_the_outage():
    station = PumpStation(initial_level=1.0)
    station.set_scenario(ProcessScenario.GENERATOR_FAIL)
    station.advance(DESIGN.generator_start_delay * 4)
    assert not station.mains_ok
    assert not station.generator_running
    assert not station.power_available
    run_until(station, lambda: station.mains_ok, within=DESIGN.power_outage_duration)
    assert not station.generator_running  # it never ran, so nothing to cool down
    station.set_scenario(ProcessScenario.POWER_FAILURE)  # leaving it mends the generator
    station.advance(DESIGN.generator_start_delay)
    assert station.generator_running


def test_a_ragged_pump_moves_a_quarter_of_the_flow_at_half_again_the_current():
    healthy = PumpStation(initial_level=2.0)
    ragged = PumpStation(initial_level=2.0)
    ragged.set_scenario(ProcessScenario.RAGGING)
    for station in (healthy, ragged):
        station.advance(DESIGN.start_delay + 1)
        assert running(station) == [1]
    good, bad = healthy.pumps[0], ragged.pumps[0]
    assert bad.flow == pytest.approx(good.flow * 0.25, rel=1e-3)  # the levels differ a little
    assert bad.current == pytest.approx(good.current * 1.5, rel=1e-3)
    assert ragged.outflow == pytest.approx(bad.flow)
    hottest = 0.0
    for _ in range(3600):
        ragged.step(1.0)
        hottest = max(hottest, bad.motor_temperature)
    # heat goes with current²: hotter than a healthy motor ever settles (ambient + 35 °C)
    assert hottest > DESIGN.ambient_temperature + 35 + 10
    ragged.set_scenario(ProcessScenario.NORMAL)  # the rags pulled out
    assert not bad.ragged


def test_a_stuck_transmitter_keeps_its_reading_while_the_level_moves():
    station = PumpStation(initial_level=2.0)
    station.advance(5)
    station.set_scenario(ProcessScenario.TRANSMITTER_STUCK)
    stuck = station.level_measured
    station.advance(600)
    assert station.level_measured == stuck
    assert abs(station.level - stuck) > 0.5  # the pumps still control the true level
    station.set_scenario(ProcessScenario.NORMAL)
    station.step(1.0)
    assert station.level_measured == pytest.approx(station.level, abs=0.01)


def test_a_failed_transmitter_reads_nan_and_the_same_noise_follows_its_repair():
    station = PumpStation(seed=3)
    twin = PumpStation(seed=3)
    station.set_scenario(ProcessScenario.TRANSMITTER_FAULT)
    station.advance(60)
    twin.advance(60)
    assert math.isnan(station.level_measured)
    station.set_scenario(ProcessScenario.NORMAL)
    station.step(1.0)
    twin.step(1.0)
    assert station.level_measured == twin.level_measured
