"""The tag level: one configured tag's registers <-> a scaled, quality-stamped value.

`compile_tag` runs once per tag at start-up. It checks the tag's codec settings (raising
CodecError, so a tag that cannot work never reaches the poll loop), picks the raw converter and
builds a specialized decode function. The poll loop then calls `TagCodec.decode` per sample;
commands call `TagCodec.encode`, which goes through the same converter in reverse.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from operator import itemgetter

from pstg.codec import decoders
from pstg.codec.bits import BitConverter, BoolConverter
from pstg.codec.block import BoolFastPath, FastPath, NumericFastPath
from pstg.codec.decoders import DecodeFn
from pstg.codec.errors import CodecError
from pstg.codec.numbers import NumericConverter
from pstg.codec.raw import Converter, RawValue, converter
from pstg.codec.sentinels import float_sentinels, integer_sentinels, register_sentinels
from pstg.codec.strings import StringConverter
from pstg.codec.words import register_prefix
from pstg.config.models import DeviceConfig, TagConfig
from pstg.model import DataType, Endian


class TagCodec:
    """Decodes and encodes one tag, as compiled by `compile_tag`.

    `decode(words)` takes exactly `register_count` registers (bits, for coils and discrete
    inputs) and returns a `Decoded`. It is a precompiled function stored on the instance rather
    than a method, which saves a call per sample in the poll loop. It raises CodecError only for
    malformed input (wrong count, a register outside 0..65535); everything the device can
    legitimately send becomes a value with a quality.
    """

    __slots__ = (
        "_converter",
        "byte_order",
        "data_type",
        "decode",
        "fast",
        "name",
        "offset",
        "register_count",
        "scale",
        "word_order",
    )

    decode: DecodeFn
    fast: FastPath | None
    """The same decoding as parameters a BlockDecoder applies inline; None: use `decode`."""

    def __init__(
        self,
        *,
        name: str,
        data_type: DataType,
        word_order: Endian,
        byte_order: Endian,
        scale: float,
        offset: float,
        conv: Converter,
        decode: DecodeFn,
        fast: FastPath | None = None,
    ) -> None:
        self.name = name
        self.data_type = data_type
        self.word_order = word_order
        self.byte_order = byte_order
        self.scale = scale
        self.offset = offset
        self.register_count = conv.register_count
        self.decode = decode
        self.fast = fast
        self._converter = conv

    def renamed(self, name: str) -> TagCodec:
        """This codec for another tag with the same settings (the decoder is shared)."""
        if name == self.name:
            return self
        # Field by field: copy.copy of a slotted object costs several times as much.
        twin: TagCodec = object.__new__(TagCodec)
        twin.name = name
        twin.data_type = self.data_type
        twin.word_order = self.word_order
        twin.byte_order = self.byte_order
        twin.scale = self.scale
        twin.offset = self.offset
        twin.register_count = self.register_count
        twin.decode = self.decode
        twin.fast = self.fast
        twin._converter = self._converter
        return twin

    @property
    def read_modify_write(self) -> bool:
        """True for a bit of a register: `encode` then needs the register's current value."""
        return isinstance(self._converter, BitConverter)

    def encode(
        self, value: float | str | bool, *, current: Sequence[int] | None = None
    ) -> list[int]:
        """The registers (or the bit, for a coil) to write so the tag reads `value`.

        Numbers go through the inverse of scale/offset and, for integer types, are rounded to
        the nearest integer. A bit of a register needs `current`, the register as last read, so
        the other 15 bits are written back unchanged. Raises CodecError when the value does not
        fit the type, is not finite, or is of the wrong kind (text for a number or vice versa).
        """
        try:
            conv = self._converter
            if isinstance(conv, BitConverter):
                if current is None:
                    raise CodecError("a bit of a register is read-modify-write: pass current=")
                return conv.encode_into(value, current)
            if isinstance(conv, NumericConverter):
                return conv.encode(self._unscale(value, conv))
            return conv.encode(value)
        except CodecError as exc:
            raise CodecError(f"{self.name}: {exc}") from None

    def _unscale(self, value: float | str | bool, conv: NumericConverter) -> RawValue:
        if isinstance(value, str):
            raise CodecError(f"{self.data_type.value} needs a number, got {value!r}")
        if self.scale == 1.0 and self.offset == 0.0 and isinstance(value, int):
            return value  # exact: no float round trip for big int64/uint64 values
        try:
            raw = (value - self.offset) / self.scale
        except OverflowError:  # an int beyond any float
            raise CodecError(f"{value!r} does not fit {self.data_type.value}") from None
        if not math.isfinite(raw):
            raise CodecError(f"{value!r} is not a finite number")
        return raw if conv.fmt.is_float else round(raw)

    def __repr__(self) -> str:
        return (
            f"TagCodec({self.name!r}, {self.data_type.value}, registers={self.register_count}, "
            f"word_order={self.word_order.value}, byte_order={self.byte_order.value})"
        )


NOT_CODEC_SETTINGS = frozenset(
    {"name", "address", "unit", "description", "deadband", "writable", "command"}
)
"""TagConfig fields a codec does not depend on; every other field (a new one too) is a setting."""
_SETTINGS = itemgetter(
    *(field for field in TagConfig.model_fields if field not in NOT_CODEC_SETTINGS | {"sentinels"})
)
_COMPILED_LIMIT = 10_000
"""Distinct settings remembered; a station repeats a few kinds of tag, so this is never near."""
_compiled: dict[Hashable, TagCodec | str] = {}


def compile_tag(tag: TagConfig, device: DeviceConfig) -> TagCodec:
    """Check `tag`'s codec settings and build its `TagCodec`. Raises CodecError, naming the tag.

    Tags with the same settings share one compiled decoder (a pure function), so a station that
    repeats a few kinds of tag compiles each kind once: compiling cost ~70 µs per tag, most of
    a big station's start-up (bench/config.py, 'start').
    """
    compiled = _compiled_settings(tag, device)
    if isinstance(compiled, str):
        raise CodecError(f"tag {tag.name}: {compiled}")
    return compiled.renamed(tag.name)


def refusal(tag: TagConfig, device: DeviceConfig) -> str | None:
    """Why `compile_tag` would refuse `tag` (in words without the tag's name), or None."""
    compiled = _compiled_settings(tag, device)
    return compiled if isinstance(compiled, str) else None


def _compiled_settings(tag: TagConfig, device: DeviceConfig) -> TagCodec | str:
    """The codec compiled for `tag`'s settings (under some tag's name), or why it cannot be."""
    key = (device.word_order, device.byte_order, tuple(tag.sentinels), _SETTINGS(tag.__dict__))
    compiled = _compiled.get(key)
    if compiled is None:
        try:
            compiled = _compile(tag, device)
        except CodecError as exc:
            compiled = str(exc)
        if len(_compiled) >= _COMPILED_LIMIT:
            _compiled.clear()
        _compiled[key] = compiled
    return compiled


def _compile(tag: TagConfig, device: DeviceConfig) -> TagCodec:
    data_type = tag.data_type
    byte_order = device.byte_order_of(tag)
    if data_type is DataType.STRING:
        # A device's word_order is set for its 32/64-bit numbers (CDAB PLCs are common), but
        # such devices still store text in ascending registers: only the tag's own setting
        # reverses a string.
        word_order = tag.word_order or Endian.BIG
    else:
        word_order = device.word_order_of(tag)
    conv = converter(
        data_type,
        word_order=word_order,
        byte_order=byte_order,
        bit=tag.bit,
        length=tag.length if data_type is DataType.STRING else None,
    )
    return TagCodec(
        name=tag.name,
        data_type=data_type,
        word_order=word_order,
        byte_order=byte_order,
        scale=tag.scale,
        offset=tag.offset,
        conv=conv,
        decode=_decoder(tag, conv),
        fast=_fast_path(tag, conv, word_order=word_order, byte_order=byte_order),
    )


def _decoder(tag: TagConfig, conv: Converter) -> DecodeFn:
    low, high = tag.range if tag.range is not None else (-math.inf, math.inf)
    if isinstance(conv, StringConverter):
        _refuse(tag, "a string tag", scaling=True, sentinels=True, value_range=True)
        return decoders.string_decoder(conv)
    if not isinstance(conv, NumericConverter):
        _refuse(tag, "a bool tag", scaling=True, sentinels=tag.source.is_bit_table)
        mask = conv.mask if isinstance(conv, BitConverter) else 0xFFFF
        what = "bool" if tag.bit is None else f"bool bit {tag.bit}"
        sentinels = register_sentinels(tag.sentinels, what)
        return decoders.bool_decoder(mask=mask, what=what, sentinels=sentinels, low=low, high=high)
    fmt = conv.fmt
    if fmt.is_float and tag.sentinels:
        patterns, values = float_sentinels(tag.sentinels, fmt)
        return decoders.float_sentinel_decoder(
            conv,
            scale=tag.scale,
            offset=tag.offset,
            patterns=patterns,
            values=values,
            low=low,
            high=high,
        )
    return decoders.numeric_decoder(
        conv,
        scale=tag.scale,
        offset=tag.offset,
        sentinels=frozenset() if fmt.is_float else integer_sentinels(tag.sentinels, fmt),
        low=low,
        high=high,
    )


def _fast_path(
    tag: TagConfig, conv: Converter, *, word_order: Endian, byte_order: Endian
) -> FastPath | None:
    """The parameters of `_decoder`'s result for the kinds a BlockDecoder reads inline.

    Called after `_decoder`, so the settings are already known to be valid."""
    low, high = tag.range if tag.range is not None else (-math.inf, math.inf)
    if isinstance(conv, BitConverter | BoolConverter):
        what = "bool" if tag.bit is None else f"bool bit {tag.bit}"
        mask = conv.mask if isinstance(conv, BitConverter) else 0xFFFF
        sentinels = register_sentinels(tag.sentinels, what)
        return BoolFastPath(mask=mask, sentinels=sentinels, low=low, high=high)
    if not isinstance(conv, NumericConverter) or (conv.fmt.is_float and tag.sentinels):
        return None  # strings, and floats whose sentinels match bit patterns too
    return NumericFastPath(
        value_format=conv.value_struct.format,
        little_registers=register_prefix(word_order, byte_order) == "<",
        scale=tag.scale,
        offset=tag.offset,
        sentinels=frozenset() if conv.fmt.is_float else integer_sentinels(tag.sentinels, conv.fmt),
        low=low,
        high=high,
    )


def _refuse(
    tag: TagConfig,
    what: str,
    *,
    scaling: bool = False,
    sentinels: bool = False,
    value_range: bool = False,
) -> None:
    """Settings that cannot apply to this kind of tag are errors, not silently ignored."""
    if scaling and (tag.scale != 1.0 or tag.offset != 0.0):
        raise CodecError(f"{what} cannot have scale or offset")
    if sentinels and tag.sentinels:
        raise CodecError(f"{what} cannot have sentinels")
    if value_range and tag.range is not None:
        raise CodecError(f"{what} cannot have a range")
