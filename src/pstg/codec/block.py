"""Decoding a whole read block at once, for the poll loop.

Per-tag decoding packs each tag's registers into bytes and unpacks the value: two C calls and a
Python call per tag. A block decoder packs the block's registers once per byte layout (see
`words.py`: a tag's registers packed with its layout's prefix are exactly a slice of the whole
block packed with that prefix) and then reads each tag with one `unpack_from` at its offset,
applying scale, offset, sentinels and range inline. The result is identical to each tag's own
`TagCodec.decode` (a property test holds the two together); tags the fast path does not cover
(strings, floats with sentinels) simply go through their own decoder.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pstg.codec.decoded import Decoded
from pstg.codec.errors import CodecError
from pstg.model import Quality, QualityReason, Sample

_new = tuple.__new__
_GOOD, _NONE = Quality.GOOD, QualityReason.NONE
_BAD, _NO_READING = Quality.BAD, QualityReason.NO_READING
_UNCERTAIN, _OUT_OF_RANGE = Quality.UNCERTAIN, QualityReason.OUT_OF_RANGE


@dataclass(frozen=True, slots=True)
class NumericFastPath:
    """What the block decoder needs to read an integer or float tag inline."""

    value_format: str  # struct format of the value, e.g. ">f" (see words.value_prefix)
    little_registers: bool  # registers packed little-endian (see words.register_prefix)
    scale: float
    offset: float
    sentinels: frozenset[int]
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class BoolFastPath:
    """A whole register, a coil, or one bit (`mask`) of a register."""

    mask: int
    sentinels: frozenset[int]
    low: float
    high: float


FastPath = NumericFastPath | BoolFastPath


class _Codec(Protocol):
    """The part of TagCodec a block decoder uses (structural, to avoid an import cycle)."""

    @property
    def register_count(self) -> int: ...

    @property
    def fast(self) -> FastPath | None: ...

    @property
    def decode(self) -> Callable[[Sequence[int]], Decoded]: ...


_Slot = tuple[str, int, int, _Codec]  # tag name, start and stop in the block, codec


class BlockDecoder:
    """Decodes the tags of one block: `members` are (tag name, offset in the block, codec)."""

    def __init__(self, count: int, members: Sequence[tuple[str, int, _Codec]]) -> None:
        self.count = count
        self._pack_big = struct.Struct(f">{count}H").pack
        self._pack_little = struct.Struct(f"<{count}H").pack
        self._slots: list[_Slot] = [
            (name, start, start + codec.register_count, codec) for name, start, codec in members
        ]
        plain: list[_Field] = []
        checked: list[_Field] = []
        self._bools: list[tuple[str, int, int, frozenset[int], float, float]] = []
        self._others: list[_Slot] = []
        for name, start, stop, codec in self._slots:
            fast = codec.fast
            if isinstance(fast, NumericFastPath):
                unbounded = fast.low == -math.inf and fast.high == math.inf
                field = _Field(2 * start, 2 * (stop - start), fast, name)
                (plain if unbounded and not fast.sentinels else checked).append(field)
            elif isinstance(fast, BoolFastPath):
                self._bools.append((name, start, fast.mask, fast.sentinels, fast.low, fast.high))
            else:
                self._others.append((name, start, stop, codec))
        self._plain = [
            (unpack, little, [(f.name, f.fast.scale, f.fast.offset) for f in fields])
            for unpack, little, fields in _layers(plain)
        ]
        self._checked = [
            (
                unpack,
                little,
                [
                    (f.name, f.fast.scale, f.fast.offset, f.fast.sentinels, f.fast.low, f.fast.high)
                    for f in fields
                ],
            )
            for unpack, little, fields in _layers(checked)
        ]
        self._needs_little = any(little for _, little, _ in self._plain + self._checked)

    def decode_into(
        self, words: Sequence[int], ts: datetime, batch: list[Sample]
    ) -> list[tuple[str, CodecError]]:
        """Append one sample per tag to `batch`; returns the tags that could not be decoded
        (their samples are bad with reason config_error)."""
        try:
            big = self._pack_big(*words)  # also checks the count and that every word is 0..65535
            little = self._pack_little(*words) if self._needs_little else b""
        except struct.error:
            # Malformed block: every tag through its own decoder, so each tag whose words are
            # fine still gets its value and each broken one its own error.
            return _decode_slots(self._slots, words, ts, batch)
        append = batch.append
        # The common case, a number with no sentinels and no range, has its own loop.
        for unpack, use_little, plain in self._plain:
            for (name, scale, offset), raw in zip(
                plain, unpack(little if use_little else big), strict=True
            ):
                value = raw * scale + offset
                if value - value != 0.0:  # NaN or ±inf
                    append(_new(Sample, (name, ts, None, _BAD, _NO_READING)))
                else:
                    append(_new(Sample, (name, ts, value, _GOOD, _NONE)))
        for unpack, use_little, checked in self._checked:
            for (name, scale, offset, sentinels, low, high), raw in zip(
                checked, unpack(little if use_little else big), strict=True
            ):
                if raw in sentinels:
                    append(_new(Sample, (name, ts, None, _BAD, _NO_READING)))
                    continue
                value = raw * scale + offset
                if value - value != 0.0:
                    append(_new(Sample, (name, ts, None, _BAD, _NO_READING)))
                elif value < low or value > high:
                    append(_new(Sample, (name, ts, value, _UNCERTAIN, _OUT_OF_RANGE)))
                else:
                    append(_new(Sample, (name, ts, value, _GOOD, _NONE)))
        for name, start, mask, sentinels, low, high in self._bools:
            word = words[start]
            if word in sentinels:
                append(_new(Sample, (name, ts, None, _BAD, _NO_READING)))
                continue
            value = 1.0 if word & mask else 0.0
            if value < low or value > high:
                append(_new(Sample, (name, ts, value, _UNCERTAIN, _OUT_OF_RANGE)))
            else:
                append(_new(Sample, (name, ts, value, _GOOD, _NONE)))
        if not self._others:
            return []
        return _decode_slots(self._others, words, ts, batch)


@dataclass(frozen=True, slots=True)
class _Field:
    at: int  # byte offset in the packed block
    size: int  # bytes
    fast: NumericFastPath
    name: str


def _layers(
    fields: list[_Field],
) -> list[tuple[Callable[..., tuple[Any, ...]], bool, list[_Field]]]:
    """Group fields into as few struct formats as possible: one per packed buffer and value
    byte order, more only where fields overlap (a format reads bytes strictly in order)."""
    groups: dict[tuple[bool, str], list[list[_Field]]] = {}
    for field in sorted(fields, key=lambda f: f.at):
        prefix = field.fast.value_format[0]
        layers = groups.setdefault((field.fast.little_registers, prefix), [])
        for layer in layers:
            last = layer[-1]
            if last.at + last.size <= field.at:
                layer.append(field)
                break
        else:
            layers.append([field])
    result = []
    for (little, prefix), layers in groups.items():
        for layer in layers:
            parts, position = [prefix], 0
            for field in layer:
                if field.at > position:
                    parts.append(f"{field.at - position}x")
                parts.append(field.fast.value_format[1:])
                position = field.at + field.size
            result.append((struct.Struct("".join(parts)).unpack_from, little, layer))
    return result


def _decode_slots(
    slots: list[_Slot], words: Sequence[int], ts: datetime, batch: list[Sample]
) -> list[tuple[str, CodecError]]:
    failures = []
    for name, start, stop, codec in slots:
        try:
            decoded = codec.decode(words[start:stop])
        except CodecError as exc:
            failures.append((name, exc))
            batch.append(Sample(name, ts, None, _BAD, QualityReason.CONFIG_ERROR))
            continue
        batch.append(_new(Sample, (name, ts, *decoded)))
    return failures
