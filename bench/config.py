"""Config benchmark: how long a big station file takes to load, and how much memory, per stage.

    uv run python bench/config.py [--sizes 1000,20000,50000,100000,200000] [--no-cli] [--no-memory]

For each size a station file is generated (100 tags per device, a realistic mix: scaled
integers, floats in both word orders, 32-bit counters, status bits sharing a register, coils,
discrete inputs; ten devices behind each gateway port; two alarms per device). Stages:
- parse: the YAML text to plain values;
- validate: + the pydantic models;
- checks: + the whole-station checks of every layer (config, codec, drivers);
- load: the whole loader, as `pstg run` calls it (a fresh process);
- start: + what the poller builds per device at start (read plan, compile_tag per tag);
- check-config: `pstg check-config FILE` as a subprocess (interpreter start-up included).
Then the memory a tag costs once loaded: its validated models, and everything load_station
leaves allocated (more would mean something keeps the YAML tree alive).
The first three run in one fresh process, load and start in another. Each row is one stage
alone (after the stages before it): wall and CPU seconds (CPU time is the steadier figure on a
shared machine), and the process's peak RSS once the stage is done (so it includes what the
stages before it still hold).
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_SIZES = (1_000, 20_000, 50_000, 100_000, 200_000)
TAGS_PER_DEVICE = 100
DEVICES_PER_PORT = 10
STAGES = ("parse", "validate", "checks", "load", "start")


def device_tags(device: str) -> list[str]:
    """The 100 tag lines of one device, as flow mappings (the usual shape of generated maps)."""
    lines: list[str] = []
    address = 0

    def tag(fields: str) -> None:
        lines.append(f"      - {{{fields}}}")

    for n in range(30):  # scaled analog inputs
        tag(
            f"name: {device}.ai{n}, source: input_register, address: {address}, "
            f"type: int16, scale: 0.1, unit: m, deadband: 0.05"
        )
        address += 1
    for n in range(20):  # floats, half of them word-swapped
        order = ", word_order: little" if n % 2 else ""
        tag(
            f"name: {device}.flow{n}, source: holding_register, address: {address}, "
            f"type: float32{order}, unit: m3/h, range: [0, 500]"
        )
        address += 2
    for n in range(10):  # counters
        tag(f"name: {device}.count{n}, source: holding_register, address: {address}, type: uint32")
        address += 2
    for n in range(8):  # set points, writable
        tag(
            f"name: {device}.sp{n}, source: holding_register, address: {address}, "
            f"sentinels: [0xFFFF], writable: true"
        )
        address += 1
    tag(f"name: {device}.status, source: holding_register, address: {address}")
    for n in range(16):  # the status word's bits
        tag(
            f"name: {device}.status.b{n}, source: holding_register, address: {address}, "
            f"type: bool, bit: {n}"
        )
    for n in range(10):
        tag(f"name: {device}.cmd{n}, source: coil, address: {n}, writable: true")
    for n in range(5):
        tag(f"name: {device}.di{n}, source: discrete_input, address: {n}")
    assert len(lines) == TAGS_PER_DEVICE
    return lines


def station_text(tags: int) -> str:
    """A valid station file with `tags` tags (a multiple of 100)."""
    devices = tags // TAGS_PER_DEVICE
    out = ["station: {id: bench, name: Config benchmark}", "devices:"]
    alarms = ["alarms:"]
    for d in range(devices):
        device = f"d{d:05d}"
        out += [
            f"  - id: {device}",
            "    host: 127.0.0.1",
            f"    port: {20000 + d // DEVICES_PER_PORT}",
            f"    unit_id: {d % DEVICES_PER_PORT + 1}",
            "    poll_interval: 1s",
            "    tags:",
            *device_tags(device),
        ]
        alarms += [
            f"  - {{tag: {device}.ai0, kind: high, limit: 3.2, deadband: 0.05, on_delay: 5s}}",
            f"  - {{device: {device}, kind: comm_loss, priority: high}}",
        ]
    return "\n".join(out + alarms) + "\n"


# --- stages, run in a child process -----------------------------------------------------------


def run_stages(path: Path, stages: str) -> list[tuple[str, float, float, float]]:
    """Run the parse/validate/checks or the load/start stages here.

    Returns (name, wall seconds, CPU seconds, peak MB) per stage."""
    from pstg.codec import compile_tag
    from pstg.config.checks import check_station, no_lines
    from pstg.config.fast_yaml import read_fast
    from pstg.config.models import StationConfig
    from pstg.drivers.planner import plan_device
    from pstg.station import STATION_CHECKS, load_station

    results: list[tuple[str, float, float, float]] = []

    def timed(name: str, step: Callable[[], Any]) -> Any:
        start, cpu = time.perf_counter(), time.process_time()
        result = step()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        results.append((name, seconds, cpu, peak_mb))
        return result

    if stages == "load":
        config = timed("load", lambda: load_station(path))
        timed("start", lambda: start_devices(config, plan_device, compile_tag))
        return results
    text = path.read_text(encoding="utf-8")
    data = timed("parse", lambda: read_fast(text))
    if data is None:
        raise SystemExit("the fast reader declined the generated file")
    config = timed("validate", functools.partial(StationConfig.model_validate, data))
    del data  # as the loader does: the plain tree is not kept through the checks

    def all_checks() -> list[Any]:
        findings = check_station(config, no_lines)
        for check in STATION_CHECKS:
            findings += check(config, no_lines)
        return findings

    findings = timed("checks", all_checks)
    if findings:
        raise SystemExit(f"the generated file has problems: {findings[:3]}")
    return results


def memory_per_tag(tags: int = 10_000) -> tuple[float, float]:
    """Bytes per tag of the validated models, and of all that load_station leaves allocated."""
    import gc
    import tracemalloc

    from pstg.config.models import StationConfig
    from pstg.station import load_station

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "station.yaml"
        text = station_text(tags)
        path.write_text(text, encoding="utf-8")
        small = Path(folder) / "small.yaml"
        small.write_text(station_text(TAGS_PER_DEVICE), encoding="utf-8")
        load_station(small)  # import what loading imports (drivers, pymodbus) before counting
        gc.collect()
        tracemalloc.start()
        plain = station_plain(text)
        before = tracemalloc.get_traced_memory()[0]
        config = StationConfig.model_validate(plain)
        models = tracemalloc.get_traced_memory()[0] - before
        del plain, config
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        loaded = load_station(path)
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert loaded.devices
    return models / tags, retained / tags


def station_plain(text: str) -> Any:
    from pstg.config.fast_yaml import read_fast

    return read_fast(text)


def start_devices(config: Any, plan_device: Any, compile_tag: Any) -> list[Any]:
    """What the poller builds per device at start: the read plan and every tag's codec."""
    return [
        (plan_device(device), [compile_tag(tag, device) for tag in device.tags])
        for device in config.devices
    ]


def child_main(path: Path, stages: str) -> None:
    if stages == "memory":
        models, retained = memory_per_tag()
        print("memory", models, retained)
        return
    for name, seconds, cpu, peak_mb in run_stages(path, stages):
        print(name, seconds, cpu, peak_mb)


# --- the parent: generate, run children, print the table ---------------------------------------


Cell = tuple[float, float, float]
"""Wall seconds, CPU seconds, peak RSS in MB."""


def in_child(path: Path, stages: str) -> dict[str, Cell]:
    """The figures of each stage, run in a fresh process."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", stages, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    results = {}
    for line in done.stdout.splitlines():
        name, seconds, cpu, peak_mb = line.split()
        results[name] = (float(seconds), float(cpu), float(peak_mb))
    return results


def check_config(path: Path) -> Cell:
    """The figures of `pstg check-config FILE` as its own process."""
    script = Path(sys.executable).parent / "pstg"
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(script), "check-config", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        assert process.stderr is not None
        raise SystemExit(f"check-config failed: {process.stderr.read().decode()[:2000]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--no-cli", action="store_true", help="skip `pstg check-config`")
    parser.add_argument("--no-memory", action="store_true", help="skip the bytes-per-tag line")
    parser.add_argument("--child", nargs=2, metavar=("STAGE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(Path(args.child[1]), args.child[0])
        return

    sizes = [int(size) for size in args.sizes.split(",")]
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores (a busy machine slows every figure)")
    columns = [*STAGES] + ([] if args.no_cli else ["check-config"])
    print(f"{'tags':>8} {'stage':>13} {'wall s':>9} {'CPU s':>9} {'peak MB':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"station-{size}.yaml"
            path.write_text(station_text(size), encoding="utf-8")
            results = in_child(path, "checks") | in_child(path, "load")
            if not args.no_cli:
                results["check-config"] = check_config(path)
            for stage in columns:
                wall, cpu, peak = results[stage]
                print(f"{size:>8} {stage:>13} {wall:>9.3f} {cpu:>9.3f} {peak:>9.1f}", flush=True)
    if not args.no_memory:
        done = subprocess.run(
            [sys.executable, __file__, "--child", "memory", "-"],
            capture_output=True,
            text=True,
            check=True,
        )
        _, models, retained = done.stdout.split()
        print(
            f"bytes per tag (tracemalloc, 10,000 tags): validated models {float(models):.0f}, "
            f"all that load_station leaves allocated {float(retained):.0f}"
        )


if __name__ == "__main__":
    main()
