"""Small helpers for the words the commands print."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 row`, `2 rows`, `0 rows` (`plural` for nouns that do not just take an s)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
