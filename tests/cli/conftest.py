"""Run the real `pstg` console script in a subprocess, while the test's event loop serves."""

import asyncio
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path


def pstg_executable() -> str:
    beside_python = Path(sys.executable).with_name("pstg")
    found = str(beside_python) if beside_python.exists() else shutil.which("pstg")
    assert found, "the pstg console script is not installed (uv sync)"
    return found


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


async def run_pstg(
    *args: str, limit: float = 120.0, columns: int = 200, stdin: str | None = None
) -> Completed:
    """`pstg ARGS` as a process; `stdin` is what it reads (default: nothing, not a terminal)."""
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"}
    process = await asyncio.create_subprocess_exec(
        pstg_executable(),
        *args,
        stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    given = None if stdin is None else stdin.encode()
    out, err = await asyncio.wait_for(process.communicate(given), limit)
    assert process.returncode is not None
    return Completed(process.returncode, out.decode(), err.decode())
