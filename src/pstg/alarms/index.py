"""The index by tag: which handlers each tag's samples go to.

Built once with the engine. A rule may read several tags (the watched tag, a running
feedback, every tag of a device, the tag of its `suppress_when`), and a tag may feed several
rules; `dispatch` hands each sample of a batch to exactly the handlers registered for its tag,
in registration order, so a batch costs one dict lookup per sample.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pstg.alarms.model import Transition
from pstg.model import Sample

Handler = Callable[[Sample, list[Transition]], None]
"""Takes one sample of a tag it listens to; appends the transitions it causes to the list."""


class TagIndex:
    """Tag name -> the handlers of the rules that read it."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def add(self, tag: str, handler: Handler) -> None:
        """Send the samples of `tag` to `handler` too (after those added before)."""
        self._handlers.setdefault(tag, []).append(handler)

    def tags(self) -> frozenset[str]:
        """Every tag some handler listens to."""
        return frozenset(self._handlers)

    def dispatch(self, samples: Iterable[Sample]) -> list[Transition]:
        """Hand every sample to its tag's handlers; the transitions, in sample order."""
        out: list[Transition] = []
        handlers_of = self._handlers
        for sample in samples:
            handlers = handlers_of.get(sample.tag)
            if handlers is None:
                continue
            for handler in handlers:
                handler(sample, out)
        return out
