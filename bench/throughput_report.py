"""The loads and results of bench/throughput.py, printed as issue 11's table (and a detailed
one) and written as JSON for docs/performance.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Load:
    devices: int
    registers: int
    interval: float = 1.0

    @property
    def tags(self) -> int:
        return self.devices * self.registers

    @property
    def values_per_poll(self) -> int:
        """Values of one poll of every device."""
        return self.tags

    @property
    def offered_per_s(self) -> float:
        """Changing values the servers offer per second: every tag once per interval."""
        return self.tags / self.interval

    @property
    def label(self) -> str:
        return f"{self.devices} × {self.registers} = {thousands(self.offered_per_s)}"


@dataclass
class Result:
    """The figures of one load; None where not measured (a failure, or --null-sink)."""

    devices: int
    registers: int
    offered_per_s: float
    command: str = ""
    error: str | None = None
    startup_s: float | None = None
    """Gateway process start -> every device polled once (seen by the servers)."""
    startup_stored_s: float | None = None
    """Gateway process start -> every tag has a stored value (from the database)."""
    stored_per_s: float | None = None
    polled_per_s: float | None = None
    keeps_up: bool | None = None
    cpu_percent: float | None = None
    """CPU of the gateway's processes, in % of one core, over the window."""
    cpu_us_per_value: float | None = None
    """Gateway CPU time per value polled in the window."""
    rss_mb: float | None = None
    """Sum over the gateway's processes at the end of the window."""
    rss_peak_mb: float | None = None
    missed_polls: int | None = None
    """Polls fewer than the window's intervals, summed over the devices (overruns)."""
    late_polls: int | None = None
    """Polls half an interval or more after the expected time (busy event loop, or a skip)."""
    overrun_log_lines: int | None = None
    warning_log_lines: int | None = None
    first_warnings: list[str] = field(default_factory=list)
    backlog_start_s: float | None = None
    """Values polled but not stored at the start of the window, in seconds of load."""
    backlog_s: float | None = None
    """The same at the end of the window."""
    servers_cpu_percent: list[float] = field(default_factory=list)
    stop_s: float | None = None
    stop_killed: bool | None = None
    exit_code: int | None = None
    left_processes: int | None = None
    rows_before_stop: int | None = None
    rows_after_exit: int | None = None
    unstored_after_exit: int | None = None
    """Values the servers served that are not in the database after the gateway exited."""
    flushed: bool | None = None
    tags_stored: int | None = None

    @classmethod
    def of(cls, load: Load) -> Result:
        return cls(load.devices, load.registers, load.offered_per_s)

    @property
    def label(self) -> str:
        return Load(self.devices, self.registers, self.tags / self.offered_per_s).label

    @property
    def tags(self) -> int:
        return self.devices * self.registers


def thousands(value: float) -> str:
    return f"{value / 1000:.3g}k" if value >= 1000 else f"{value:.0f}"


def _n(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def issue_cell(result: Result) -> str:
    """One cell in the words of issue 11's table."""
    if result.error:
        return "FAILED: " + result.error.splitlines()[0]
    if result.keeps_up:
        verdict = "keeps up"
    elif result.stored_per_s is not None:
        verdict = f"**falls behind** ({thousands(result.stored_per_s)}/s stored)"
    else:
        verdict = f"**falls behind** ({result.missed_polls} polls missed)"
    return (
        f"{verdict}, {_n(result.cpu_percent)} % of a core, {_n(result.rss_mb)} MB RSS, "
        f"{_n(result.startup_s, 1)} s to start"
    )


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def print_tables(results: list[Result], options: argparse.Namespace) -> None:
    if not results:
        return
    where = "PostgreSQL" if options.database else "SQLite"
    mode = "poll + decode only (--null-sink)" if options.null_sink else f"into {where}"
    print(f"\npstg run --no-api --quiet {mode}, {options.seconds:g} s window after "
          f"{options.warmup:g} s warm-up, poll interval {options.interval:g} s\n")  # fmt: skip
    print(_row(["load (values/s)", "PSTG (this run)"]))
    print(_row(["---", "---"]))
    for result in results:
        print(_row([result.label, issue_cell(result)]))

    print()
    head = ["load", "stored/s", "polled/s", "keeps up", "CPU %", "µs/value", "RSS MB (peak)",
            "start s (all stored)", "missed (late) polls", "overrun lines",
            "backlog s (start → end)", "servers CPU %", "stop s", "rows before → after stop",
            "unstored"]  # fmt: skip
    print(_row(head))
    print(_row(["---"] * len(head)))
    for r in results:
        killed = " (killed)" if r.stop_killed else ""
        stop = "–" if r.stop_s is None else f"{r.stop_s:.1f}{killed}"
        print(_row([
            r.label, _n(r.stored_per_s), _n(r.polled_per_s),
            "–" if r.keeps_up is None else ("yes" if r.keeps_up else "NO"),
            _n(r.cpu_percent), _n(r.cpu_us_per_value, 1),
            f"{_n(r.rss_mb)} ({_n(r.rss_peak_mb)})",
            f"{_n(r.startup_s, 1)} ({_n(r.startup_stored_s, 1)})",
            f"{_n(r.missed_polls)} ({_n(r.late_polls)})", _n(r.overrun_log_lines),
            f"{_n(r.backlog_start_s, 1)} → {_n(r.backlog_s, 1)}",
            " + ".join(f"{cpu:.0f}" for cpu in r.servers_cpu_percent) or "–",
            stop, f"{_n(r.rows_before_stop)} → {_n(r.rows_after_exit)}",
            _n(r.unstored_after_exit) + _flushed(r.flushed),
        ]))  # fmt: skip
    for r in results:
        if r.error:
            print(f"\n{r.label}: {r.error}")
        elif r.left_processes:
            print(f"\n{r.label}: {r.left_processes} gateway process(es) outlived it (killed)")
        if r.warning_log_lines:
            print(f"\n{r.label}: {r.warning_log_lines} warning line(s) in the gateway's log:")
            print("\n".join(f"    {line}" for line in r.first_warnings))


def _flushed(flushed: bool | None) -> str:
    return "" if flushed is None else (" (flushed)" if flushed else " (NOT flushed)")


def _commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "-C", str(here), "describe", "--always", "--dirty"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def _rounded(values: dict[str, Any]) -> dict[str, Any]:
    return {key: round(v, 3) if isinstance(v, float) else v for key, v in values.items()}


def write_json(path: Path, results: list[Result], options: argparse.Namespace) -> None:
    document: dict[str, Any] = {
        "benchmark": "bench/throughput.py",
        "argv": sys.argv[1:],
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": _commit(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "database": "postgresql" if options.database else "sqlite",
        "null_sink": options.null_sink,
        "seconds": options.seconds,
        "warmup": options.warmup,
        "interval": options.interval,
        "results": [_rounded(asdict(result) | {"load": result.label}) for result in results],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten: {path}")
