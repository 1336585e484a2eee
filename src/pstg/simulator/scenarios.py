"""Scenario names as users type them: one process scenario and at most one link fault.

`storm`, `pump-fault,flaky`, `offline:2m`, `normal`: a comma-separated list with at most one of
the process scenarios (normal, storm, pump-fault, power-failure, generator-fail, ragging,
transmitter-stuck, transmitter-fault) and at most one link fault
(flaky, offline). `offline` takes an optional duration after a colon (default 30 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pstg.simulator.faults import DEFAULT_OFFLINE_SECONDS
from pstg.simulator.process import ProcessScenario
from pstg.times import format_duration, parse_duration


class LinkMode(StrEnum):
    NONE = "none"
    FLAKY = "flaky"
    OFFLINE = "offline"


@dataclass(frozen=True)
class Scenario:
    process: ProcessScenario = ProcessScenario.NORMAL
    link: LinkMode = LinkMode.NONE
    offline_seconds: float = DEFAULT_OFFLINE_SECONDS

    def __str__(self) -> str:
        parts = [self.process.value]
        if self.link is LinkMode.FLAKY:
            parts.append("flaky")
        elif self.link is LinkMode.OFFLINE:
            parts.append(f"offline:{format_duration(self.offline_seconds)}")
        return ",".join(parts)


SCENARIO_NAMES = [s.value for s in ProcessScenario] + [LinkMode.FLAKY, LinkMode.OFFLINE]


def parse_scenario(text: str) -> Scenario:
    """The scenario named by `text`; ValueError says what is wrong and lists the names."""
    process: ProcessScenario | None = None
    link: LinkMode | None = None
    offline = DEFAULT_OFFLINE_SECONDS
    words = [word.strip() for word in text.split(",") if word.strip()]
    if not words:
        raise ValueError(f"no scenario given; choose from {', '.join(SCENARIO_NAMES)}")
    for word in words:
        name, _, argument = word.partition(":")
        if name in ProcessScenario.__members__.values():
            if process is not None:
                raise ValueError(f"{text!r} names two process scenarios ({process}, {name})")
            if argument:
                raise ValueError(f"scenario {name} takes no argument")
            process = ProcessScenario(name)
        elif name in (LinkMode.FLAKY, LinkMode.OFFLINE):
            if link is not None:
                raise ValueError(f"{text!r} names two link faults ({link}, {name})")
            link = LinkMode(name)
            if argument:
                if link is not LinkMode.OFFLINE:
                    raise ValueError(f"scenario {name} takes no argument")
                offline = _offline_seconds(argument)
        else:
            raise ValueError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIO_NAMES)}")
    return Scenario(process or ProcessScenario.NORMAL, link or LinkMode.NONE, offline)


def _offline_seconds(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise ValueError(f"offline:{text}: {exc}") from None
    if seconds <= 0:
        raise ValueError(f"offline:{text}: the period must be positive")
    return seconds
