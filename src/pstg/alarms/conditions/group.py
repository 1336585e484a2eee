"""A condition on several tags (`all: [...]` or `any: [...]`) in three-valued logic.

Each term is true, false or unknown (no good value seen yet, or the last one bad). `all` is
false as soon as one term is false, true when every term is true, else unknown; `any` is true
as soon as one term is true, false when every term is false, else unknown. So a bad input
makes the condition unknown only when the terms that are known do not decide it: "mains lost
and generator not running" is false while the mains are on, whatever the generator reads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pstg.alarms.conditions.base import known_number
from pstg.alarms.index import Handler
from pstg.alarms.model import Transition
from pstg.alarms.rules import Group
from pstg.model import Sample

OnChange = Callable[[datetime, list[Transition]], None]
"""Called after every sample of a term's tag, with the sample's time."""


class GroupState:
    """What each term of a `Group` is now, and what that makes the group."""

    __slots__ = ("group", "terms")

    def __init__(self, group: Group) -> None:
        self.group = group
        self.terms: list[bool | None] = [None] * len(group.terms)

    def inputs(self, on_change: OnChange) -> list[tuple[str, Handler]]:
        """A handler per term, each updating its term and then calling `on_change`."""
        return [
            (term.tag, self._handler(index, on_change))
            for index, term in enumerate(self.group.terms)
        ]

    def _handler(self, index: int, on_change: OnChange) -> Handler:
        term = self.group.terms[index]

        def on_value(sample: Sample, out: list[Transition]) -> None:
            value = known_number(sample)
            self.terms[index] = None if value is None else term.holds(value)
            on_change(sample.ts, out)

        return on_value

    @property
    def holding(self) -> int:
        """How many terms are true."""
        return sum(1 for term in self.terms if term is True)

    @property
    def value(self) -> bool | None:
        """The group: True, False, or None (unknown)."""
        terms = self.terms
        decisive = self.group.mode == "any"  # the value one term needs to decide the group
        if decisive in terms:
            return decisive
        if None in terms:
            return None
        return not decisive

    def clear(self) -> None:
        """Forget every term (after a restart their values must be seen again)."""
        self.terms = [None] * len(self.terms)
