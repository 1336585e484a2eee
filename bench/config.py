"""Config benchmark: how long a big station file takes to load, and how much memory, per stage.

    uv run python bench/config.py [--sizes 1000,20000,50000,100000,200000] [--no-cli]

For each size a station file is generated (100 tags per device, a realistic mix: scaled
integers, floats in both word orders, 32-bit counters, status bits sharing a register, coils,
discrete inputs; ten devices behind each gateway port; two alarms per device). Stages:
- parse: the YAML text to plain values;
- validate: + the pydantic models;
- checks: + the whole-station checks of every layer (config, codec, drivers);
- load: the whole loader, as `pstg run` calls it (a fresh process);
- start: + what the poller builds per device at start (read plan, compile_tag per tag);
- check-config: `pstg check-config FILE` as a subprocess (interpreter start-up included).
The first three run in one fresh process, load and start in another. Each figure is the time
of that stage alone and the process's peak RSS once the stage is done (so it includes what the
stages before it still hold).
"""

from __future__ import annotations

import argparse
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


def run_stages(path: Path, stages: str) -> list[tuple[str, float, float]]:
    """Run the parse/validate/checks or the load/start stages here: (name, seconds, peak MB)."""
    from pstg.codec import compile_tag
    from pstg.config.checks import check_station
    from pstg.config.loader import _line_of, _parse, _plain, load_config
    from pstg.config.models import StationConfig
    from pstg.drivers.planner import plan_device

    results: list[tuple[str, float, float]] = []
    held: list[Any] = []  # keep every stage's result alive, as the loader does

    def timed(name: str, step: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = step()
        seconds = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        results.append((name, seconds, peak_mb))
        held.append(result)
        return result

    if stages == "load":
        config = timed("load", lambda: load_config(path))
        timed("start", lambda: start_devices(config, plan_device, compile_tag))
        return results
    text = path.read_text(encoding="utf-8")
    tree = timed("parse", lambda: _parse(text, str(path)))
    config = timed("validate", lambda: StationConfig.model_validate(_plain(tree)))
    timed("checks", lambda: check_station(config, line_of=lambda loc: _line_of(tree, loc)))
    return results


def start_devices(config: Any, plan_device: Any, compile_tag: Any) -> list[Any]:
    """What the poller builds per device at start: the read plan and every tag's codec."""
    return [
        (plan_device(device), [compile_tag(tag, device) for tag in device.tags])
        for device in config.devices
    ]


def child_main(path: Path, stages: str) -> None:
    for name, seconds, peak_mb in run_stages(path, stages):
        print(name, seconds, peak_mb)


# --- the parent: generate, run children, print the table ---------------------------------------


def in_child(path: Path, stages: str) -> dict[str, tuple[float, float]]:
    """Seconds and peak RSS (MB) of each stage, run in a fresh process."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", stages, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    results = {}
    for line in done.stdout.splitlines():
        name, seconds, peak_mb = line.split()
        results[name] = (float(seconds), float(peak_mb))
    return results


def check_config(path: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of `pstg check-config FILE` as its own process."""
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
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--no-cli", action="store_true", help="skip `pstg check-config`")
    parser.add_argument("--child", nargs=2, metavar=("STAGE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(Path(args.child[1]), args.child[0])
        return

    sizes = [int(size) for size in args.sizes.split(",")]
    columns = [*STAGES] + ([] if args.no_cli else ["check-config"])
    print(f"{'tags':>8} " + " ".join(f"{name:>20}" for name in columns))
    print(f"{'':>8} " + " ".join(f"{'s':>9} {'peak MB':>10}" for _ in columns))
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"station-{size}.yaml"
            path.write_text(station_text(size), encoding="utf-8")
            results = in_child(path, "checks") | in_child(path, "load")
            cells = [results[stage] for stage in STAGES]
            if not args.no_cli:
                cells.append(check_config(path))
            print(
                f"{size:>8} " + " ".join(f"{s:>9.3f} {mb:>10.1f}" for s, mb in cells),
                flush=True,
            )


if __name__ == "__main__":
    main()
