"""Loading the station config for a command: every problem printed, then a non-zero exit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pstg.cli.app import fail, stderr
from pstg.cli.errors import exit_code
from pstg.cli.text import count
from pstg.errors import Invalid

if TYPE_CHECKING:
    from pathlib import Path

    from pstg.config.models import StationConfig


def load_or_fail(path: Path) -> StationConfig:
    """The validated config at `path`; an invalid file never starts anything."""
    from pstg.config.errors import ConfigError
    from pstg.station import load_station

    try:
        return load_station(path)
    except ConfigError as exc:
        for problem in exc.problems:
            stderr.print(str(problem), markup=False)
        problems = count(len(exc.problems), "problem")
        fail(f"{path}: {problems} in the config; nothing started", exit_code(Invalid))
