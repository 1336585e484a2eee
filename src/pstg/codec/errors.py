"""The codec's one exception.

`CodecError` is a `ValueError`: it always means "these registers, this value or this tag
configuration cannot be converted", never an I/O problem. It is raised

- at start-up by `compile_tag` when a tag's settings cannot work (a sentinel wider than the
  type, scale on a string tag ...), so a bad configuration never reaches the poll loop;
- per sample when a response has the wrong number of registers or a register outside 0..65535
  (the poller records that sample as bad with reason `config_error`);
- on writes when a value does not fit the tag's type.
"""

from __future__ import annotations

from collections.abc import Sequence


class CodecError(ValueError):
    """Registers, a value or a tag configuration that cannot be converted."""


def wrong_count(what: str, expected: int, words: Sequence[object]) -> CodecError:
    """The error for a response slice of the wrong length."""
    return CodecError(f"{what} needs {expected} register(s), got {len(words)}: {list(words)!r}")


def bad_registers(words: Sequence[object]) -> CodecError:
    """The error for registers that are not integers 0..65535."""
    return CodecError(f"registers must be integers 0..65535, got {list(words)!r}")


def malformed(what: str, expected: int, words: Sequence[object]) -> CodecError:
    """The error for registers a `struct` refused: a wrong count, or a bad register."""
    if len(words) != expected:
        return wrong_count(what, expected, words)
    return bad_registers(words)
