"""How long the pump station model takes to simulate one day of 1 s steps (prints figures).

`pstg simulate --speed N` needs N steps per wall second; a day of steps in about a second of
CPU leaves room for --speed 3600 and more.

    uv run python bench/simulator.py [--days 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from pstg.simulator.process import PumpStation

DAY = 86_400


def one_day() -> float:
    station = PumpStation(seed=1)
    began = time.process_time()
    for _ in range(DAY):
        station.step(1.0)
    return time.process_time() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=3, help="days to simulate (one run each)")
    args = parser.parse_args()
    runs = [one_day() for _ in range(args.days)]
    median = statistics.median(runs)
    print(f"one simulated day ({DAY} steps of 1 s): median {median:.2f} s of CPU "
          f"over {len(runs)} run(s), {DAY / median:,.0f} steps per CPU second")  # fmt: skip


if __name__ == "__main__":
    main()
