"""Dry-weather pattern, AR(1) noise, storm hydrograph and maintenance visits."""

import math
import random
import statistics
from datetime import UTC, datetime

import pytest

from pstg.simulator.process import StationDesign
from pstg.simulator.process.inflow import DAY, HOUR, InflowModel, MaintenanceVisits, storm_shape

DESIGN = StationDesign()
MIDNIGHT = datetime(2026, 1, 5, tzinfo=UTC)


def model(seed: int = 1, start: datetime = MIDNIGHT) -> InflowModel:
    return InflowModel(DESIGN, random.Random(seed), start)


def test_diurnal_pattern_has_mean_one_and_the_expected_peaks():
    inflow = model()
    minutes = [inflow.diurnal_multiplier(minute * 60.0) for minute in range(1440)]
    assert statistics.fmean(minutes) == pytest.approx(1.0, abs=1e-3)
    night = min(range(1440), key=lambda minute: minutes[minute])
    morning = max(range(1440), key=lambda minute: minutes[minute])
    evening = max(range(17 * 60, 23 * 60), key=lambda minute: minutes[minute])
    assert night / 60 == pytest.approx(4, abs=0.5)
    assert minutes[night] == pytest.approx(0.35, abs=0.03)
    assert morning / 60 == pytest.approx(8, abs=0.5)
    assert minutes[morning] == pytest.approx(1.7, abs=0.05)
    assert evening / 60 == pytest.approx(20, abs=0.5)
    assert minutes[evening] == pytest.approx(1.3, abs=0.05)


def test_the_pattern_follows_the_clock_not_the_elapsed_time():
    six_am = model(start=datetime(2026, 1, 5, 6, tzinfo=UTC))
    assert six_am.diurnal_multiplier(2 * HOUR) == pytest.approx(
        model().diurnal_multiplier(8 * HOUR)
    )


def test_noise_is_correlated_over_minutes_and_never_negative():
    inflow = model(seed=3)
    ratios = []
    for second in range(1, int(2 * DAY) + 1):
        value = inflow.inflow_at(second, 1.0)
        assert value >= 0.0
        ratios.append(value / (DESIGN.base_inflow * inflow.diurnal_multiplier(second)) - 1.0)
    assert statistics.stdev(ratios) == pytest.approx(0.08, abs=0.025)
    one_minute_apart = statistics.correlation(ratios[:-60], ratios[60:])
    one_hour_apart = statistics.correlation(ratios[:-3600], ratios[3600:])
    assert one_minute_apart > 0.7  # AR(1) with tau 5 min: exp(-1/5) ≈ 0.82
    assert abs(one_hour_apart) < 0.3


def test_same_seed_same_inflow_and_reading_does_not_draw():
    first, second, other = model(seed=7), model(seed=7), model(seed=8)
    second.inflow_at(0.0, 0.0)  # a read without advancing must not shift the sequence
    run = [first.inflow_at(t, 1.0) for t in range(1, 600)]
    assert run == [second.inflow_at(t, 1.0) for t in range(1, 600)]
    assert run != [other.inflow_at(t, 1.0) for t in range(1, 600)]


@pytest.mark.parametrize(
    ("minutes", "fraction"),
    [
        (0, 0.0),
        (10, 0.5),  # halfway up the 20 min ramp
        (20, 1.0),
        (109, 1.0),  # 90 min hold
        (110 + 45, math.exp(-1)),  # one recession time constant
    ],
)
def test_storm_hydrograph(minutes, fraction):
    assert storm_shape(minutes * 60.0) == pytest.approx(fraction)


def test_storm_total_peaks_at_the_design_peak_and_ends():
    inflow = model()
    inflow.start_storm(0.0)
    peak = [inflow.inflow_at(t, 1.0) for t in range(1, int(3 * HOUR))]
    assert max(peak) == pytest.approx(DESIGN.storm_peak_inflow, rel=0.1)
    assert statistics.fmean(peak[30 * 60 : 100 * 60]) == pytest.approx(
        DESIGN.storm_peak_inflow, rel=0.02
    )
    for t in range(int(3 * HOUR), int(12 * HOUR)):
        inflow.inflow_at(t, 1.0)
    assert not inflow.storm_active  # the tail is forgotten once negligible


def test_maintenance_visits_on_about_half_the_days_during_working_hours():
    visits = MaintenanceVisits(random.Random(5), MIDNIGHT)
    days = 60
    open_seconds_by_day: list[list[float]] = [[] for _ in range(days)]
    for tick in range(int(days * DAY / 10)):
        elapsed = tick * 10.0
        if visits.door_open_at(elapsed):
            open_seconds_by_day[int(elapsed // DAY)].append(elapsed % DAY)
    visited = [seconds for seconds in open_seconds_by_day if seconds]
    assert 18 <= len(visited) <= 42
    for seconds in visited:
        assert seconds[0] >= 8 * HOUR
        assert seconds[-1] < 16 * HOUR + 45 * 60
        duration = seconds[-1] - seconds[0] + 10
        assert 20 * 60 - 10 <= duration <= 45 * 60 + 10
        assert len(seconds) == duration / 10  # one unbroken opening a day
