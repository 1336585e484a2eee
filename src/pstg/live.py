"""The live cache: the latest sample of every tag, as the poller produced it.

The API answers "what is the level now" from here, not from a database scan. The service
feeds it every batch the poller emits (before report by exception, so it is always the
freshest reading) and warms it at start from the last stored samples.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pstg.model import Sample


class LiveCache:
    def __init__(self) -> None:
        self._latest: dict[str, Sample] = {}

    def update(self, samples: Iterable[Sample]) -> None:
        latest = self._latest
        for sample in samples:
            previous = latest.get(sample.tag)
            if previous is None or sample.ts >= previous.ts:
                latest[sample.tag] = sample

    def get(self, tag: str) -> Sample | None:
        return self._latest.get(tag)

    def snapshot(self) -> Mapping[str, Sample]:
        """A copy, safe to iterate while the poller keeps updating."""
        return dict(self._latest)

    def __len__(self) -> int:
        return len(self._latest)
