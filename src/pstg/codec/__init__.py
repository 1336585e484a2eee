"""Register <-> value conversion: data types, byte/word order, bits, strings, scale, quality.

Pure functions, no I/O, shared by reading and writing so the two can never disagree.

Two levels:

- raw: `decode_words` / `encode_value` convert registers to one unscaled value and back, for
  any `DataType`, word order and byte order (`raw.py`, built on `numbers.py`, `bits.py`,
  `strings.py` and the layout rules in `words.py`);
- tag: `compile_tag` turns a configured tag into a `TagCodec` once at start-up; its `decode`
  applies scale/offset, sentinels and the engineering range and returns a `Decoded`
  (value, quality, reason); its `encode` is the inverse for writes (`tag_codec.py`,
  `decoders.py`, `sentinels.py`);
- block: `BlockDecoder` decodes every tag of one read block in one pass for the poll loop,
  with the same result as each tag's own `decode` (`block.py`).

Every failure is a `CodecError` (a ValueError). See docs/codec.md for the user-facing rules.
"""

from pstg.codec.block import BlockDecoder, Member
from pstg.codec.decoded import NO_READING, Decoded
from pstg.codec.errors import CodecError
from pstg.codec.raw import RawValue, decode_words, encode_value
from pstg.codec.tag_codec import TagCodec, compile_tag

__all__ = [
    "NO_READING",
    "BlockDecoder",
    "CodecError",
    "Decoded",
    "Member",
    "RawValue",
    "TagCodec",
    "compile_tag",
    "decode_words",
    "encode_value",
]
