"""Shared helpers for the codec tests: the four layouts and a reference implementation.

The reference spells the layout rules out the slow, obvious way (reverse the registers for
little word order, swap the two bytes of each register for little byte order), so the codec's
two-struct trick is checked against an independent oracle rather than against itself.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from pstg.model import Endian

BIG, LITTLE = Endian.BIG, Endian.LITTLE

# (name, word_order, byte_order) in the usual ABCD notation.
ORDERS: list[tuple[str, Endian, Endian]] = [
    ("ABCD", BIG, BIG),
    ("CDAB", LITTLE, BIG),
    ("BADC", BIG, LITTLE),
    ("DCBA", LITTLE, LITTLE),
]

ORDER_BY_NAME = {name: (word_order, byte_order) for name, word_order, byte_order in ORDERS}


def reference_bytes(words: Sequence[int], word_order: Endian, byte_order: Endian) -> bytes:
    """The value's bytes, most significant first (text: first character first)."""
    registers = list(words)[::-1] if word_order is LITTLE else list(words)
    return b"".join(word.to_bytes(2, byte_order.value) for word in registers)


def reference_value(
    words: Sequence[int], code: str, word_order: Endian, byte_order: Endian
) -> object:
    """The number a struct code reads from `words` under the reference layout."""
    value: object = struct.unpack(">" + code, reference_bytes(words, word_order, byte_order))[0]
    return value
