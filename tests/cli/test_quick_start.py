"""docs/simulator.md's quick start works as written (issue 10, item 18): its commands, taken
from the page, run in order in an empty folder — `pstg seed`, `pstg simulate`, then
`pstg run -c station.yaml --migrate` in "another terminal" — and the gateway stores what the
simulator serves. `pstg seed`'s own next-step hint names the same commands.

Two things are added to the page's commands, neither changing what they do: a free port for
the simulator (on `seed` and `simulate` alike) instead of 15020, which something else on a
shared machine may hold, and `--duration 3s --no-api` so that `run` ends by itself without
taking port 8000.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import sqlite3
from contextlib import suppress
from pathlib import Path

from tests.cli.conftest import pstg_executable
from tests.poller.conftest import free_port

PAGE = Path(__file__).parents[2] / "docs" / "simulator.md"


def quick_start() -> list[list[str]]:
    """The commands of the page's first shell block, without `uv run` and the comments."""
    block = re.search(r"```sh\n(.*?)```", PAGE.read_text(), re.DOTALL)
    assert block, "docs/simulator.md has no ```sh block"
    commands = []
    for line in block[1].splitlines():
        words = shlex.split(line, comments=True)
        if words:
            assert words[:3] == ["uv", "run", "pstg"], line
            commands.append(words[2:])
    return commands


def hinted(output: str) -> list[str]:
    """The commands a message tells the user to type (between backticks)."""
    return re.findall(r"`(pstg [^`]+)`", output)


async def pstg(folder: Path, *args: str, limit: float = 120) -> tuple[int, str]:
    """`pstg ARGS` run in `folder` to its end: its exit status and its stderr."""
    process = await asyncio.create_subprocess_exec(
        pstg_executable(), *args, cwd=folder, env={**os.environ, "COLUMNS": "200"},
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), limit)
    assert process.returncode is not None
    return process.returncode, err.decode()


async def wait_for_listener(port: int, process: asyncio.subprocess.Process) -> None:
    for _ in range(600):
        assert process.returncode is None, "pstg simulate ended before it listened"
        with suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"pstg simulate did not listen on {port} within 60 s")


async def test_the_quick_start_runs_as_written(tmp_path: Path) -> None:
    seed, simulate, run = quick_start()
    assert [seed[1], simulate[1], run[1]] == ["seed", "simulate", "run"]
    port = ["--port", str(free_port())]

    status, said = await pstg(tmp_path, *seed[1:], *port)
    assert status == 0, said
    assert (tmp_path / "station.yaml").exists()
    # What seed tells the user to type next is what the page says (with the port it chose).
    assert hinted(said) == [shlex.join([*simulate, *port]), shlex.join(run)]

    log = (tmp_path / "simulate.log").open("wb")
    simulator = await asyncio.create_subprocess_exec(
        pstg_executable(), *simulate[1:], *port, cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
    )  # fmt: skip
    try:
        await wait_for_listener(int(port[1]), simulator)
        status, said = await pstg(tmp_path, *run[1:], "--duration", "3s", "--no-api")
        assert status == 0, said
        assert "schema created at revision" in said  # --migrate on the first start
        simulator.send_signal(signal.SIGINT)  # "Ctrl-C to stop"
        assert await asyncio.wait_for(simulator.wait(), 30) == 0
    finally:
        if simulator.returncode is None:
            simulator.kill()
            await simulator.wait()
        log.close()

    with sqlite3.connect(tmp_path / "pstg.db") as db:
        good = db.execute(
            "SELECT COUNT(*) FROM samples s JOIN tags t ON t.id = s.tag_id "
            "WHERE t.name = 'wet_well.level' AND s.quality = 0 AND s.value IS NOT NULL"
        ).fetchone()[0]
    assert good > 0  # the simulator's level, read and stored


async def test_seed_names_the_path_it_wrote_as_the_page_says(tmp_path: Path) -> None:
    example = re.search(r"\(`-o (\S+)`\s+gives\s+`(pstg run [^`]+)`\)", PAGE.read_text())
    assert example, "docs/simulator.md no longer shows what `seed -o` prints"
    output, run = example[1], example[2]
    (tmp_path / Path(output).parent).mkdir(parents=True)
    status, said = await pstg(tmp_path, "seed", "-o", output, "--port", str(free_port()))
    assert status == 0, said
    assert hinted(said)[-1] == run
