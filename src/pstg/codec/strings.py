"""Text packed two characters per register.

Byte order says where the first character of each register sits: big = high byte (the usual
Modbus convention: "PS" is 0x5053), little = low byte (0x5350). Word order reverses the register
order, as it does for numbers. Characters are Latin-1, one byte each, so any register content
decodes without error and everything that decodes encodes back. Decoding trims NUL and space
padding from both ends; encoding pads with NUL.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from functools import lru_cache

from pstg.codec.errors import CodecError, bad_registers, wrong_count
from pstg.model import Endian

ENCODING = "latin-1"
PADDING = "\x00 "

_PREFIX = {Endian.BIG: ">", Endian.LITTLE: "<"}


class StringConverter:
    """A string of `length` registers (2 * length characters at most)."""

    __slots__ = ("_reverse", "_struct", "register_count")

    def __init__(self, length: int, *, word_order: Endian, byte_order: Endian) -> None:
        if length < 1:
            raise CodecError(f"a string needs at least 1 register, got {length}")
        self.register_count = length
        self._reverse = word_order is Endian.LITTLE
        self._struct = struct.Struct(f"{_PREFIX[byte_order]}{length}H")

    def decode(self, words: Sequence[int]) -> str:
        if len(words) != self.register_count:
            raise wrong_count("string", self.register_count, words)
        ordered = words[::-1] if self._reverse else words
        try:
            data = self._struct.pack(*ordered)
        except struct.error:
            raise bad_registers(words) from None
        return data.decode(ENCODING).strip(PADDING)

    def encode(self, value: int | float | str) -> list[int]:
        if not isinstance(value, str):
            raise CodecError(f"a string tag needs text, got {value!r}")
        data = _text_bytes(value)
        room = 2 * self.register_count
        if len(data) > room:
            raise CodecError(
                f"{value!r} is {len(data)} characters; {self.register_count} register(s) "
                f"hold {room}"
            )
        words = list(self._struct.unpack(data.ljust(room, b"\x00")))
        return words[::-1] if self._reverse else words


def _text_bytes(value: str) -> bytes:
    try:
        return value.encode(ENCODING)
    except UnicodeEncodeError as exc:
        raise CodecError(f"{value!r} has characters outside Latin-1: {exc.reason}") from None


def registers_for(value: str) -> int:
    """Registers needed to hold `value` (at least 1)."""
    return max(1, (len(_text_bytes(value)) + 1) // 2)


@lru_cache(maxsize=128)
def string_converter(length: int, word_order: Endian, byte_order: Endian) -> StringConverter:
    """A shared converter per shape: the raw API builds no structs per call."""
    return StringConverter(length, word_order=word_order, byte_order=byte_order)
