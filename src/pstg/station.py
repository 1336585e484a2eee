"""Load a station file with every layer's checks: the one loader the commands and the service use.

The config layer validates its models and what it can see alone (duplicates, references,
addresses); it cannot ask the layers above it without importing them. This module sits above
the drivers and hands the config loader the checks of the codec (`compile_tag` refusals) and of
the drivers (unknown drivers, connection settings, request limits), so a file that loads here
is one the poller can start with, and every problem is reported with its line in one run.
"""

from __future__ import annotations

import os

from pstg.codec.checks import check_tag_codecs
from pstg.config.checks import StationCheck
from pstg.config.loader import load_config, load_config_text
from pstg.config.models import StationConfig
from pstg.drivers.checks import check_drivers

STATION_CHECKS: tuple[StationCheck, ...] = (check_drivers, check_tag_codecs)
"""The checks above the config layer, in report order: problems on one line are listed in the
order found, and a tag's request limit came before its codec refusal since the checks began."""


def load_station(path: str | os.PathLike[str]) -> StationConfig:
    """The validated station config at `path`; ConfigError lists every problem with its line."""
    return load_config(path, checks=STATION_CHECKS)


def load_station_text(text: str, filename: str = "station.yaml") -> StationConfig:
    """`load_station` for a text; `filename` is only used in problem reports."""
    return load_config_text(text, filename, checks=STATION_CHECKS)
