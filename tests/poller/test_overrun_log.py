"""Issue 11: an overloaded gateway says so in one line a minute, not one per device."""

import logging

import pytest

from pstg.poller.overrun_log import OverrunLog


def test_one_device_is_named_with_its_interval(caplog: pytest.LogCaptureFixture) -> None:
    overruns = OverrunLog(every=60)
    with caplog.at_level(logging.WARNING):
        for second in range(30):
            overruns.overran("pump1", 0.5, second + 1, now=float(second))
    assert [r.getMessage() for r in caplog.records] == [
        "pump1: poll cycle overran its 0.5s interval (1 time(s) since the last report, "
        "1 tick(s) skipped in all): the device, its line or the gateway is too slow"
    ]


def test_a_thousand_devices_overrunning_make_one_line_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    overruns = OverrunLog(every=60)
    with caplog.at_level(logging.WARNING):
        for second in range(125):  # every device overruns every second for just over 2 min
            for device in range(1000):
                overruns.overran(f"d{device:04d}", 1.0, second + 1, now=float(second))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3  # at 0 s (the first), at 60 s and at 120 s
    assert lines[1] == (
        "poll cycles overran on 1000 devices since the last report (d0000, d0001, d0002, "
        "d0003, d0004 and 995 more; 60000 overrun(s)): the devices, their lines or the "
        "gateway are too slow"
    )
