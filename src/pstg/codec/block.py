"""Decoding a whole read block at once, into columns, for the poll loop.

Per-tag decoding packs each tag's registers into bytes and unpacks the value: two C calls and a
Python call per tag. A block decoder packs the block's registers once per byte layout (see
`words.py`: a tag's registers packed with its layout's prefix are exactly a slice of the whole
block packed with that prefix), reads every tag of a layout with one `unpack_from`, and then
applies scale, offset, sentinels and range to whole NumPy columns. It returns a `Batch`: one
row per tag, in an order fixed when the decoder is built.

The result is identical to each tag's own `TagCodec.decode` (a property test holds the two
together); tags the fast path does not cover (strings, floats with sentinels) go through their
own decoder.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from pstg.batch import Batch, TextSample
from pstg.codec.decoded import Decoded
from pstg.codec.errors import CodecError
from pstg.model import (
    BAD_CODE,
    QUALITY_CODES,
    REASON_CODES,
    UNCERTAIN_CODE,
    DataType,
    Quality,
    QualityReason,
)

_NO_READING = REASON_CODES[QualityReason.NO_READING]
_OUT_OF_RANGE = REASON_CODES[QualityReason.OUT_OF_RANGE]
_CONFIG_ERROR = Decoded(None, Quality.BAD, QualityReason.CONFIG_ERROR)


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

    @property
    def data_type(self) -> DataType: ...


@dataclass(frozen=True, slots=True)
class Member:
    """One tag of a block: its name, its index in the tag table, where it starts in the
    block (registers from the block's address) and its codec."""

    name: str
    index: int
    start: int
    codec: _Codec

    @property
    def stop(self) -> int:
        return self.start + self.codec.register_count


@dataclass(frozen=True, slots=True)
class _Layer:
    """Numeric tags read by one struct format from one packed buffer: rows first..first+n."""

    unpack: Callable[..., tuple[Any, ...]]
    little: bool
    first: int
    scales: npt.NDArray[np.float64] | None  # None: every scale 1 and offset 0
    offsets: npt.NDArray[np.float64] | None
    sentinels: tuple[tuple[int, frozenset[int]], ...]  # (position in the layer, raw values)


class BlockDecoder:
    """Decodes the tags of one block of `count` registers (or bits) into a Batch."""

    def __init__(self, count: int, members: Sequence[Member]) -> None:
        self.count = count
        self._pack_big = struct.Struct(f">{count}H").pack
        self._pack_little = struct.Struct(f"<{count}H").pack
        self.members = tuple(members)
        numeric: list[_Field] = []
        bools: list[Member] = []
        others: list[Member] = []
        for member in self.members:
            fast = member.codec.fast
            if isinstance(fast, NumericFastPath):
                numeric.append(_Field(2 * member.start, 2 * member.codec.register_count, fast,
                                      member))  # fmt: skip
            elif isinstance(fast, BoolFastPath):
                bools.append(member)
            else:
                others.append(member)
        # Rows: the numeric layers, then the bools, then the others; texts apart.
        order: list[Member] = []
        self._layers: list[_Layer] = []
        for unpack, little, fields in _layers(numeric):
            scales = np.array([f.fast.scale for f in fields], dtype=np.float64)
            offsets = np.array([f.fast.offset for f in fields], dtype=np.float64)
            plain = bool(np.all(scales == 1.0) and np.all(offsets == 0.0))
            self._layers.append(
                _Layer(
                    unpack,
                    little,
                    len(order),
                    None if plain else scales,
                    None if plain else offsets,
                    tuple((n, f.fast.sentinels) for n, f in enumerate(fields) if f.fast.sentinels),
                )
            )
            order.extend(f.member for f in fields)
        self._bool_first = len(order)
        order.extend(bools)
        self._bool_starts = np.array([m.start for m in bools], dtype=np.intp)
        self._bool_masks = np.array([_bool(m).mask for m in bools], dtype=np.int64)
        self._bool_sentinels = tuple(
            (n, _bool(m).sentinels) for n, m in enumerate(bools) if _bool(m).sentinels
        )
        self._texts = tuple(m for m in others if _is_text(m))
        self._others = tuple(m for m in others if not _is_text(m))
        self._others_first = len(order)
        order.extend(self._others)
        self._rows = len(order)
        self.tags = np.array([m.index for m in order], dtype=np.int32)
        """Tag index of each numeric row, in row order."""
        lows = np.array([_limits(m)[0] for m in order], dtype=np.float64)
        highs = np.array([_limits(m)[1] for m in order], dtype=np.float64)
        bounded = bool(np.any(np.isfinite(lows)) or np.any(np.isfinite(highs)))
        self._lows = lows if bounded else None
        self._highs = highs if bounded else None
        self._needs_little = any(layer.little for layer in self._layers)
        self._order = tuple(order)

    def decode(self, words: Sequence[int], ts: int) -> tuple[Batch, list[tuple[str, CodecError]]]:
        """One row per tag of the block, read at `ts` (µs); also the tags that could not be
        decoded (their rows are bad with reason config_error)."""
        try:
            big = self._pack_big(*words)  # also checks the count and that every word is 0..65535
            little = self._pack_little(*words) if self._needs_little else b""
        except struct.error:
            # Malformed block: every tag through its own decoder, so each tag whose words are
            # fine still gets its value and each broken one its own error.
            return self._decode_each(words, ts)
        rows = self._rows
        values = np.empty(rows, dtype=np.float64)
        quality = np.zeros(rows, dtype=np.uint8)
        reason = np.zeros(rows, dtype=np.uint8)
        no_reading: list[int] = []
        for layer in self._layers:
            raw = layer.unpack(little if layer.little else big)
            column = np.array(raw, dtype=np.float64)
            if layer.scales is not None and layer.offsets is not None:
                column *= layer.scales
                column += layer.offsets
            values[layer.first : layer.first + len(raw)] = column
            for position, sentinels in layer.sentinels:
                if raw[position] in sentinels:
                    no_reading.append(layer.first + position)
        if len(self._bool_starts):
            registers = np.frombuffer(big, dtype=">u2")[self._bool_starts]
            first = self._bool_first
            values[first : first + len(registers)] = (registers & self._bool_masks) != 0
            for position, sentinels in self._bool_sentinels:
                if int(registers[position]) in sentinels:
                    no_reading.append(first + position)
        failures = self._decode_others(words, values, quality, reason) if self._others else []
        self._stamp(values, quality, reason, no_reading)
        texts = self._decode_texts(words, ts, failures) if self._texts else ()
        times = np.full(rows, ts, dtype=np.int64)
        return Batch(self.tags, times, values, quality, reason, texts), failures

    def _stamp(
        self,
        values: npt.NDArray[np.float64],
        quality: npt.NDArray[np.uint8],
        reason: npt.NDArray[np.uint8],
        no_reading: list[int],
    ) -> None:
        """Range and no-reading qualities on the decoded columns (the others are stamped)."""
        others = slice(self._others_first, self._rows)
        if self._lows is not None and self._highs is not None:
            out = (values < self._lows) | (values > self._highs)
            out[others] = False
            quality[out] = UNCERTAIN_CODE
            reason[out] = _OUT_OF_RANGE
        bad = ~np.isfinite(values)
        bad[others] = False
        if no_reading:
            bad[no_reading] = True
        if bad.any():
            values[bad] = np.nan
            quality[bad] = BAD_CODE
            reason[bad] = _NO_READING

    def _decode_others(
        self,
        words: Sequence[int],
        values: npt.NDArray[np.float64],
        quality: npt.NDArray[np.uint8],
        reason: npt.NDArray[np.uint8],
    ) -> list[tuple[str, CodecError]]:
        failures: list[tuple[str, CodecError]] = []
        for row, member in enumerate(self._others, start=self._others_first):
            decoded = _decode_one(member, words, failures)
            values[row] = np.nan if decoded.value is None else float(decoded.value)
            quality[row] = QUALITY_CODES[decoded.quality]
            reason[row] = REASON_CODES[decoded.reason]
        return failures

    def _decode_texts(
        self, words: Sequence[int], ts: int, failures: list[tuple[str, CodecError]]
    ) -> tuple[TextSample, ...]:
        texts = []
        for member in self._texts:
            decoded = _decode_one(member, words, failures)
            text = decoded.value if isinstance(decoded.value, str) else None
            texts.append(
                TextSample(member.index, ts, text, QUALITY_CODES[decoded.quality],
                           REASON_CODES[decoded.reason])
            )  # fmt: skip
        return tuple(texts)

    def _decode_each(
        self, words: Sequence[int], ts: int
    ) -> tuple[Batch, list[tuple[str, CodecError]]]:
        rows = self._rows
        values = np.empty(rows, dtype=np.float64)
        quality = np.empty(rows, dtype=np.uint8)
        reason = np.empty(rows, dtype=np.uint8)
        failures: list[tuple[str, CodecError]] = []
        for row, member in enumerate(self._order):
            decoded = _decode_one(member, words, failures)
            values[row] = np.nan if decoded.value is None else float(decoded.value)
            quality[row] = QUALITY_CODES[decoded.quality]
            reason[row] = REASON_CODES[decoded.reason]
        texts = self._decode_texts(words, ts, failures)
        times = np.full(rows, ts, dtype=np.int64)
        return Batch(self.tags, times, values, quality, reason, texts), failures

    def bad(self, ts: int, reason: QualityReason) -> Batch:
        """Every tag of the block bad for `reason` at `ts` (the read failed)."""
        rows = self._rows
        code = REASON_CODES[reason]
        texts = tuple(TextSample(m.index, ts, None, BAD_CODE, code) for m in self._texts)
        return Batch(
            self.tags,
            np.full(rows, ts, dtype=np.int64),
            np.full(rows, np.nan, dtype=np.float64),
            np.full(rows, BAD_CODE, dtype=np.uint8),
            np.full(rows, code, dtype=np.uint8),
            texts,
        )


def _decode_one(
    member: Member, words: Sequence[int], failures: list[tuple[str, CodecError]]
) -> Decoded:
    try:
        return member.codec.decode(words[member.start : member.stop])
    except CodecError as exc:
        failures.append((member.name, exc))
        return _CONFIG_ERROR


def _bool(member: Member) -> BoolFastPath:
    fast = member.codec.fast
    assert isinstance(fast, BoolFastPath)
    return fast


def _is_text(member: Member) -> bool:
    return member.codec.data_type is DataType.STRING


def _limits(member: Member) -> tuple[float, float]:
    fast = member.codec.fast
    if fast is None:
        return -math.inf, math.inf  # the member's own decoder applies its range
    return fast.low, fast.high


@dataclass(frozen=True, slots=True)
class _Field:
    at: int  # byte offset in the packed block
    size: int  # bytes
    fast: NumericFastPath
    member: Member


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
