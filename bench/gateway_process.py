"""`pstg run` as the operator starts it, in a process of its own, for bench/throughput.py:
the station.yaml it reads, `pstg migrate`, the process itself, and the rows it stored.

The gateway runs in a new session (process group), so a Ctrl-C in the terminal reaches only
the benchmark, which then stops everything it started; on Linux the kernel also kills the
gateway if the benchmark itself dies (PR_SET_PDEATHSIG), so no gateway outlives its run.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import psutil
import sqlalchemy as sa

from pstg.model import GOOD_CODE
from pstg.storage.database import create_engine

WARNING_LINE = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b")
OVERRUN_LINE = re.compile(
    r"overr(an|un)|skipped \d+ tick|fall(s|ing|en)? behind|queue (is )?full|back-?pressure",
    re.IGNORECASE,
)
"""Log lines that say the gateway could not keep up (today only at DEBUG; issue 11 asks for a
rate-limited warning, which this catches whatever its exact words)."""


def pstg_command() -> list[str]:
    """The `pstg` entry point of the interpreter running the benchmark (no `uv run` between)."""
    script = Path(sys.executable).with_name("pstg")
    if not script.exists():
        raise SystemExit(f"no pstg entry point beside {sys.executable}: run with `uv run python`")
    return [str(script)]


def write_station(
    path: Path, ports: Sequence[int], registers: int, database: str, interval: float
) -> None:
    """N devices x M uint16 holding registers, deadband 0, polled every `interval` seconds."""
    # Private, as pstg seed writes it: the gateway warns about a config others can read.
    with open(path, "w", encoding="utf-8", opener=lambda p, f: os.open(p, f, 0o600)) as out:
        out.write("# Written by bench/throughput.py: its load servers, one device per port.\n")
        out.write("station: {id: bench}\n")
        out.write(f'storage: {{url: "{database}"}}\n')
        out.write("devices:\n")
        for index, port in enumerate(ports):
            device = f"d{index:04d}"
            out.write(f"  - id: {device}\n    host: 127.0.0.1\n    port: {port}\n")
            out.write(f"    poll_interval: {interval:g}s\n    tags:\n")
            for address in range(registers):
                out.write(
                    f"      - {{name: {device}.r{address:03d}, source: holding_register, "
                    f"address: {address}, type: uint16, deadband: 0}}\n"
                )


def migrate(database: str, log: IO[str]) -> None:
    """`pstg migrate` on the benchmark's database (by URL, so the large station.yaml is not
    parsed here: start-up parsing is measured with the gateway)."""
    done = subprocess.run(
        [*pstg_command(), "migrate", "--database", database],
        stdout=log,
        stderr=subprocess.STDOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pstg migrate failed (exit {done.returncode}); see {log.name}")


def _die_with_parent() -> None:
    # prctl(PR_SET_PDEATHSIG, SIGKILL): a benchmark killed with SIGKILL leaves no gateway
    # polling on a shared machine. Best effort: not every libc is found by this name.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


class GatewayProcess:
    """`pstg run -c CONFIG --no-api --quiet [extra...]`, its output in `log_path`."""

    def __init__(self, config: Path, log_path: Path, extra_args: Sequence[str]) -> None:
        self.log_path = log_path
        self.command = [
            *pstg_command(),
            "run",
            "-c",
            str(config),
            "--no-api",
            "--quiet",
            *extra_args,
        ]
        self._log = log_path.open("ab")
        self.started = time.monotonic()
        self.started_wall = time.time()
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=config.parent,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def exit_code(self) -> int | None:
        return self.process.poll()

    def terminate(self, timeout: float) -> tuple[float, bool]:
        """SIGTERM to the gateway (its main process, as `kill PID` sends it); seconds until it
        exited, and whether it had to be killed after `timeout`."""
        sent = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
            return time.monotonic() - sent, False
        except subprocess.TimeoutExpired:
            self.kill()
            return time.monotonic() - sent, True

    def kill(self) -> None:
        """SIGKILL to the whole process group (workers included); waits for the main one."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._log.close()

    def leftovers(self, grace: float = 3.0) -> int:
        """Processes of the gateway's process group still alive `grace` seconds after it
        exited (workers that outlived it; multiprocessing's resource tracker takes a moment
        to notice that everyone is gone, which is not a leftover)."""
        end = time.monotonic() + grace
        while True:
            count = 0
            for process in psutil.process_iter():
                with contextlib.suppress(psutil.Error, OSError):
                    if os.getpgid(process.pid) == self.process.pid and (
                        process.status() != psutil.STATUS_ZOMBIE
                    ):
                        count += 1
            if not count or time.monotonic() >= end:
                return count
            time.sleep(0.1)

    def log_bytes(self) -> bytes:
        return self.log_path.read_bytes()

    def log_lines(self) -> list[str]:
        return self.log_bytes().decode("utf-8", errors="replace").splitlines()

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_lines()[-lines:])


class StoredRows:
    """Counts the gateway's rows in `samples` (good quality only: a bad-quality row, such as a
    timeout or an end-of-data marker, is not a value)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    def count(self) -> int:
        with self.engine.connect() as connection:
            query = sa.text("SELECT count(*) FROM samples WHERE quality = :good")
            return int(connection.execute(query, {"good": GOOD_CODE}).scalar_one())

    def first_rows(self) -> tuple[int, float | None]:
        """Tags with at least one good row, and the time (Unix seconds) of the latest of their
        first rows: when the last tag got its first stored value."""
        query = sa.text(
            "SELECT count(*), max(first) FROM "
            "(SELECT min(ts) AS first FROM samples WHERE quality = :good GROUP BY tag_id) AS f"
        )
        with self.engine.connect() as connection:
            tags, last_first = connection.execute(query, {"good": GOOD_CODE}).one()
        return int(tags), None if last_first is None else last_first / 1e6

    def close(self) -> None:
        self.engine.dispose()
