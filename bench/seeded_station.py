"""The seeded pump station as an operator starts it, for the benchmarks that talk to a running
gateway (bench/commands.py, bench/console.py): `pstg simulate` and `pstg run` of `pstg seed`'s
station, each a process of its own on 127.0.0.1, a user to log in as, and helpers to wait for
the gateway and to summarise latencies."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gateway_process import _die_with_parent, pstg_command
from pstg.simulator.seed import SeedOptions, seed_config_text


@dataclass(frozen=True)
class RunningStation:
    url: str
    """The gateway's API, http://127.0.0.1:PORT."""
    token: str
    """An access token of the benchmark's user."""
    gateway: subprocess.Popen[bytes]
    """`pstg run`."""


@contextlib.contextmanager
def seeded_station(
    database: str, user: str, password: str, role: str, api: str = ""
) -> Iterator[RunningStation]:
    """The seeded station on `database` (migrated here), `user` with `role` logged in; `api`
    adds keys to the config's `api:` line (e.g. "max_streams: 60, ")."""
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        sim_port, api_port = free_port(), free_port()
        config = here / "station.yaml"
        text = seed_config_text(SeedOptions(port=sim_port, database_url=database,
                                            api_port=api_port))  # fmt: skip
        config.write_text(text.replace("api: {", "api: {" + api))
        config.chmod(0o600)
        pstg(["migrate", "-c", str(config)], here)
        pstg(["users", "add", user, "--role", role, "-c", str(config)], here,
             PSTG_PASSWORD=password)  # fmt: skip
        url = f"http://127.0.0.1:{api_port}"
        with (
            process(["simulate", "--port", str(sim_port)], here / "simulate.log", here),
            process(["run", "-c", str(config)], here / "run.log", here) as gateway,
        ):
            wait_until_serving(url)
            login = httpx.post(f"{url}/api/v1/auth/token",
                               data={"username": user, "password": password})  # fmt: skip
            yield RunningStation(url, login.json()["access_token"], gateway)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def process(args: list[str], log: Path, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`pstg ARGS` in a session of its own, stopped with SIGTERM (then SIGKILL) at the end."""
    with log.open("ab") as out:
        running = subprocess.Popen(
            [*pstg_command(), *args], stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )  # fmt: skip
        try:
            yield running
        finally:
            running.send_signal(signal.SIGTERM)
            try:
                running.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(running.pid, signal.SIGKILL)
                running.wait()


def pstg(args: list[str], cwd: Path, **env: str) -> None:
    done = subprocess.run([*pstg_command(), *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **env}, check=False)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"pstg {' '.join(args)} failed: {done.stderr or done.stdout}")


def wait_until_serving(url: str, limit: float = 120.0) -> None:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code in (200, 503):
                return
        time.sleep(0.2)
    raise SystemExit(f"the gateway at {url} did not answer within {limit:g} s")


def wait_for_value(client: httpx.Client, tag: str, limit: float = 30.0) -> Any:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        answer = client.get("/api/v1/tags", params={"q": tag})
        for row in answer.json():
            if row["name"] == tag and (row["latest"] or {}).get("value") is not None:
                return row["latest"]["value"]
        time.sleep(0.2)
    raise SystemExit(f"{tag} has no live value after {limit:g} s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
