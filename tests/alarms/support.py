"""Small builders for alarm tests: times as seconds after T0, samples, engines from dicts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pstg.alarms import AlarmEngine, AlarmState, Transition
from pstg.config.models import AlarmConfig
from pstg.model import Quality, QualityReason, Sample

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def good(tag: str, seconds: float, value: float | str) -> Sample:
    return Sample(tag, at(seconds), value)


def bad(tag: str, seconds: float, reason: QualityReason = QualityReason.TIMEOUT) -> Sample:
    return Sample.bad(tag, at(seconds), reason)


def uncertain(tag: str, seconds: float, value: float) -> Sample:
    return Sample(tag, at(seconds), value, Quality.UNCERTAIN, QualityReason.OUT_OF_RANGE)


def engine(*alarms: dict[str, Any], **options: Any) -> AlarmEngine:
    return AlarmEngine([AlarmConfig.model_validate(alarm) for alarm in alarms], **options)


def states(transitions: list[Transition]) -> list[tuple[float, AlarmState, str]]:
    """(seconds after T0, new state, reason) of each transition: compact to compare."""
    return [((t.ts - T0).total_seconds(), t.state, t.reason) for t in transitions]


def stream(
    eng: AlarmEngine, tag: str, values: Sequence[float | None], step: float = 1.0
) -> list[Transition]:
    """Feed `values` one per `step` seconds from T0 (None: a bad sample), ticking after each;
    every transition, in order."""
    out: list[Transition] = []
    for index, value in enumerate(values):
        seconds = index * step
        sample = bad(tag, seconds) if value is None else good(tag, seconds, value)
        out += eng.process([sample])
        out += eng.tick(at(seconds))
    return out
