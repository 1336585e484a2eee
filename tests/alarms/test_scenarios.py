"""The simulator's scenarios through the real seeded config (`pstg seed`), as the collector
would feed them: every register map point read each second as a sample at simulated time."""

from __future__ import annotations

from pstg.alarms import AlarmState
from pstg.simulator.process import ProcessScenario, StationDesign
from tests.alarms.site import Site

S = AlarmState


def test_storm_raises_high_then_high_high_and_clears_them_past_the_deadband() -> None:
    site = Site()
    site.station.set_scenario(ProcessScenario.STORM)
    levels: list[tuple[float, float]] = []
    while site.engine.get("wet_well.level.high").state is not S.RTN_UNACK:
        site.run(1)
        levels.append((site.station.elapsed, site.station.level_measured))
        assert site.station.elapsed < 4 * 3600, "the storm never receded"

    high = site.steps("wet_well.level.high")
    high_high = site.steps("wet_well.level.high_high")
    # each raised once and cleared once: no chattering around the limits
    assert [t.state for _, t, _ in high] == [S.UNACK, S.RTN_UNACK]
    assert [t.state for _, t, _ in high_high] == [S.UNACK, S.RTN_UNACK]
    (high_on, _, _), (high_off, _, high_off_level) = high
    (hh_on, _, _), (hh_off, _, hh_off_level) = high_high
    assert high_on < hh_on < hh_off < high_off

    # raised once the limit held for the on-delay (10 s and 5 s; the level rises steadily)
    crossed_high = next(t for t, level in levels if level >= 3.0)
    crossed_hh = next(t for t, level in levels if level >= 3.4)
    assert high_on - crossed_high == 10
    assert hh_on - crossed_hh == 5
    # cleared only past the deadband (0.05 m), not when the level dips under the limit
    assert high_off_level < 3.0 - 0.05
    assert hh_off_level < 3.4 - 0.05
    under_limit = next(t for t, level in levels if t > hh_on and level < 3.4)
    assert hh_off > under_limit

    # and the float switch and the overflow raise their own alarms in between
    assert [t.state for _, t, _ in site.steps("wet_well.high_high_float.discrete")][:1] == [S.UNACK]
    assert [t.state for _, t, _ in site.steps("station.overflow.discrete")][:1] == [S.UNACK]


def test_pump_fault_raises_trip_and_fail_to_start_and_an_operator_handles_them() -> None:
    site = Site(initial_level=1.5)
    site.station.set_scenario(ProcessScenario.PUMP_FAULT)
    site.run_until("pump1.tripped.discrete", S.UNACK, within=1800)
    site.run_until("pump2.fail_to_start.discrete", S.UNACK, within=60)
    eng = site.engine
    now = site.station.time
    eng.acknowledge("pump1.tripped.discrete", "olga", "crew sent", now)
    eng.shelve("pump2.fail_to_start.discrete", "olga", "known, pump 2 out", 3600, now)
    # the PLC latches fail-to-start at 10 s and drops the command: the gateway's own 15 s
    # check is a backstop that stays quiet here
    assert eng.get("pump2.commanded.fail_to_start").state is S.NORMAL

    site.station.set_scenario(ProcessScenario.NORMAL)
    site.station.reset_faults()
    site.run(5)
    assert eng.get("pump1.tripped.discrete").state is S.NORMAL
    assert eng.get("pump2.fail_to_start.discrete").state is S.SHELVED
    site.run(3600)
    assert eng.get("pump2.fail_to_start.discrete").state is S.NORMAL
    assert site.steps("pump2.fail_to_start.discrete")[-1][1].reason == "shelve expired"


def test_the_gateway_catches_a_failed_start_the_plc_does_not_latch_in_time() -> None:
    site = Site(StationDesign(fail_to_start_time=60), initial_level=1.5)
    site.station.set_scenario(ProcessScenario.PUMP_FAULT)
    site.run_until("pump1.tripped.discrete", S.UNACK, within=1800)
    waited = site.run_until("pump2.commanded.fail_to_start", S.UNACK, within=60)
    assert 14 <= waited <= 16
    site.run_until("pump2.fail_to_start.discrete", S.UNACK, within=60)
    # the PLC drops the command when it latches its own alarm: the condition has gone
    assert site.engine.get("pump2.commanded.fail_to_start").state is S.RTN_UNACK


def test_offline_simulator_raises_comm_loss_and_recovery_clears_it() -> None:
    site = Site()
    site.run(10)
    before = len(site.journal)  # the current alarms of stopped pumps are suppressed by now
    site.offline = True
    waited = site.run_until("plc1.comm_loss", S.UNACK, within=60)
    assert 30 <= waited <= 31
    # only comm loss and what reads bad quality (30 s on-delays: the level, the tags the
    # level alarms take their limits from) react; no limit alarm moves
    assert {t.alarm_id for _, t, _ in site.journal[before:]} <= {
        "plc1.comm_loss",
        "wet_well.level.bad_quality",
        "setpoint.high_level.limit_source",
        "setpoint.low_level.limit_source",
    }
    site.offline = False
    site.run(1)
    assert site.engine.get("plc1.comm_loss").state is S.RTN_UNACK
    site.engine.acknowledge("plc1.comm_loss", "olga", "link was down", site.station.time)
    assert site.engine.get("plc1.comm_loss").state is S.NORMAL
    assert site.engine.get("plc1.comm_loss").since == site.station.time
