"""Command latency: set point commands (select, then operate) against the pump station simulator.

    uv run python bench/commands.py [--commands 100] [--backend sqlite|postgresql|all]
                                    [--runs 0]

`pstg simulate` and `pstg run` (the seeded station: every register of the simulator as a tag,
polled every second, with its alarms and the API) run as processes of their own on 127.0.0.1,
as an operator starts them. The benchmark logs in as an engineer and sends `--commands`
commands of `setpoint.lead_start`, alternating between two levels the PLC's ordering rule
allows, one after the other; `--runs N` also sends N remote runs of pump 2 (stop, start, ...),
confirmed by its running feedback. Prints per backend the median and p99 of

- operate -> confirmed as the service measured it (`seconds`: the write on the device's line,
  the read-back),
- the operate request as the client sees it (+ its audit rows, the HTTP round trip),
- the select request (role, range, interlocks, the journal and audit rows).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from databases import backends
from pstg.simulator.process import SetPoints
from seeded_station import percentile, seeded_station, wait_for_value

USER, PASSWORD = "erin", "bench-password-1"


def command(client: httpx.Client, tag: str, value: Any) -> tuple[float, float, dict[str, Any]]:
    """Select and operate; (select seconds, operate seconds, the outcome)."""
    began = time.perf_counter()
    selected = client.post("/api/v1/commands", json={"tag": tag, "value": value,
                                                     "comment": "bench"})  # fmt: skip
    if selected.status_code != 201:
        raise SystemExit(f"select {tag} = {value} refused: {selected.text}")
    chosen = time.perf_counter()
    operated = client.post(f"/api/v1/commands/{selected.json()['id']}/operate")
    done = time.perf_counter()
    return chosen - began, done - chosen, operated.json()


def report(name: str, outcomes: list[dict[str, Any]], selects: list[float],
           operates: list[float]) -> None:  # fmt: skip
    states: dict[str, int] = {}
    for outcome in outcomes:
        states[outcome["state"]] = states.get(outcome["state"], 0) + 1
    service = [o["seconds"] * 1000 for o in outcomes if o["state"] == "confirmed"]
    print(f"  {name}: {len(outcomes)} commands, {states}")
    rows = (
        ("operate -> confirmed (service)", service),
        ("operate request (client)", [s * 1000 for s in operates]),
        ("select request (client)", [s * 1000 for s in selects]),
    )
    for label, values in rows:
        if values:
            median, p99 = statistics.median(values), percentile(values, 0.99)
            print(f"    {label:32} median {median:7.1f} ms   p99 {p99:7.1f} ms   "
                  f"max {max(values):7.1f} ms")  # fmt: skip


def run(backend: str, database: str, commands: int, runs: int) -> None:
    with seeded_station(database, USER, PASSWORD, "engineer") as station:
        headers = {"Authorization": f"Bearer {station.token}"}
        with httpx.Client(base_url=station.url, headers=headers, timeout=60) as client:
            wait_for_value(client, "setpoint.lead_start")
            plc = SetPoints()
            levels = (round(plc.lead_start, 2), round(plc.lead_start - 0.1, 2))
            print(f"{backend}: {commands} x setpoint.lead_start {levels[0]:g} <-> "
                  f"{levels[1]:g} m (read back at once)")  # fmt: skip
            selects, operates, outcomes = [], [], []
            for number in range(commands):
                chose, operated, outcome = command(
                    client, "setpoint.lead_start", levels[(number + 1) % 2]
                )
                selects.append(chose)
                operates.append(operated)
                outcomes.append(outcome)
            report("set point", outcomes, selects, operates)
            if runs:
                run_pump(client, runs)


def run_pump(client: httpx.Client, runs: int) -> None:
    """Remote start/stop of pump 2, each confirmed by pump2.running (the PLC's 2 s start
    delay, then the next poll): the latency of a command with a feedback tag."""
    wait_for_value(client, "pump2.auto")
    command(client, "pump2.remote_mode", True)
    selects, operates, outcomes = [], [], []
    for number in range(runs):
        time.sleep(5.1)  # min_interval of the seeded remote run
        chose, operated, outcome = command(client, "pump2.remote_run", number % 2 == 0)
        selects.append(chose)
        operates.append(operated)
        outcomes.append(outcome)
    report("pump 2 remote run (feedback)", outcomes, selects, operates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=100)
    parser.add_argument("--runs", type=int, default=0, help="remote runs of pump 2 as well")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "all"), default="all")
    args = parser.parse_args()
    for backend, database in backends(args.backend):
        with database() as url:
            run(backend, url, args.commands, args.runs)


if __name__ == "__main__":
    main()
