"""Word order and byte order as `struct` prefixes.

A value of N registers is the byte string A B C D ... (most significant byte first). Devices
send it in one of four layouts; with registers shown as their two bytes, high byte first:

    word_order  byte_order  32-bit layout  registers
    big         big         ABCD           [AB, CD]
    little      big         CDAB           [CD, AB]
    big         little      BADC           [BA, DC]
    little      little      DCBA           [DC, BA]

Instead of reordering lists per sample, the codec packs the registers with one `struct` and
reads the value with another: reversing the register order *and* the bytes inside each register
reverses the whole byte string, so "little word order" is simply a little-endian value read
from registers packed with the opposite byte order. Two C calls, no Python loop, and the exact
inverse for encoding (pack the value, unpack the registers).
"""

from __future__ import annotations

import struct

from pstg.model import Endian

_PREFIX = {Endian.BIG: ">", Endian.LITTLE: "<"}
_FLIPPED = {Endian.BIG: "<", Endian.LITTLE: ">"}


def value_prefix(word_order: Endian) -> str:
    """struct prefix for reading the whole value out of the packed registers."""
    return _PREFIX[word_order]


def register_prefix(word_order: Endian, byte_order: Endian) -> str:
    """struct prefix for packing the registers so `value_prefix(word_order)` reads them right."""
    return _PREFIX[byte_order] if word_order is Endian.BIG else _FLIPPED[byte_order]


def register_struct(count: int, word_order: Endian, byte_order: Endian) -> struct.Struct:
    """Packs `count` registers (ints 0..65535) into the bytes a value struct reads."""
    return struct.Struct(f"{register_prefix(word_order, byte_order)}{count}H")
