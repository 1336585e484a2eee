"""Booleans: a whole register (non-zero is 1), a single bit of a register, or a coil."""

from __future__ import annotations

from collections.abc import Sequence

from pstg.codec.errors import CodecError, bad_registers, wrong_count


def single_register(words: Sequence[int], what: str) -> int:
    """The single register of `words`, checked to be an integer 0..65535."""
    if len(words) != 1:
        raise wrong_count(what, 1, words)
    word = words[0]
    # bool is accepted on purpose: bit tables (coils) often arrive as True/False.
    if not isinstance(word, int) or not 0 <= word <= 0xFFFF:
        raise bad_registers(words)
    return word


def _as_bit(value: int | float | str) -> int:
    """0 or 1 from True/False/0/1/0.0/1.0; anything else is refused rather than guessed."""
    if isinstance(value, str) or value not in (0, 1):
        raise CodecError(f"bool needs true/false or 0/1, got {value!r}")
    return int(value)


class BoolConverter:
    """A whole register (or a coil / discrete input) as a bool: non-zero decodes to 1."""

    __slots__ = ()
    register_count = 1

    def decode(self, words: Sequence[int]) -> int:
        return 1 if single_register(words, "bool") else 0

    def encode(self, value: int | float | str) -> list[int]:
        return [_as_bit(value)]


class BitConverter:
    """Bit `bit` (0 = least significant) of one register."""

    __slots__ = ("bit", "mask")
    register_count = 1

    def __init__(self, bit: int) -> None:
        if not 0 <= bit <= 15:
            raise CodecError(f"bit must be 0..15, got {bit}")
        self.bit = bit
        self.mask = 1 << bit

    def decode(self, words: Sequence[int]) -> int:
        return 1 if single_register(words, f"bool bit {self.bit}") & self.mask else 0

    def encode(self, value: int | float | str) -> list[int]:
        """Refused: writing one bit alone would clear the register's other 15 bits."""
        raise CodecError(
            f"writing bit {self.bit} of a register needs its current value: use encode_into"
        )

    def encode_into(self, value: int | float | str, current: Sequence[int]) -> list[int]:
        """`current` (the register as last read) with this bit set to `value`."""
        word = single_register(current, f"bool bit {self.bit}")
        if _as_bit(value):
            return [word | self.mask]
        return [word & ~self.mask & 0xFFFF]
