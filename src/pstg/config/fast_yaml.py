"""The fast way to read a station file: yaml-rs, wherever it reads a text as ruamel.yaml would.

ruamel.yaml's round-trip loader is the reference (`loader.py`): it keeps the line of every key
and item for error messages, and resolves scalars by YAML 1.2. It costs about 1 ms per tag, so
a 200,000-tag file took minutes. ruamel's own C loader is only ~5x faster: the scanner is C, but
resolving and building each value is Python. yaml-rs (Rust) builds the same plain values about
100x faster, without lines; the loader uses it first and goes back to the reference only when
there is something to report (see `loader.load_config_text`).

Where yaml-rs would read a text differently from the reference, `read_fast` declines (returns
None) and the reference reads it. Measured differences (tests/config/test_fast_yaml.py walks
every scalar of up to three characters and the traps below), each found by `declines`:
- characters the reference refuses or treats differently: tabs, control characters, NEL, LS,
  PS, a byte-order mark after the start;
- a directive (`%YAML 1.1` would turn `yes` into true and `017` into 15 in the reference);
- a tag (`!!binary`, `!!set`, `!!timestamp`, the non-specific `! 1` ...): the reference gives
  some of them a meaning beyond their kind;
- scalars yaml-rs reads as numbers but the reference as text: a leading underscore (`_1`),
  upper-case radix prefixes (`0X10`, `0O17`, `0B1`), `.5e5`, underscores in an exponent,
  mixed-case `.iNf`; and dates, which the reference reads as dates and yaml-rs as text;
- a quoted `'<<'` key, which is an ordinary key and not a merge.
The check is a pattern over the whole text, conservative: it may send a file to the reference
that yaml-rs would have read the same (an `!` after a space in a description), never the other
way. What both read alike includes `yes`/`no`/`on`/`off` (text in YAML 1.2), `0x8000`, `0o17`,
`1_000`, `.inf`, `~`, quoted and block scalars, anchors and aliases, and duplicate keys (an
error in both).

yaml-rs keeps a `<<:` merge key as an ordinary key; `_merge_keys` applies it as the reference
does: the mapping's own keys first, then each merged mapping's keys it does not have, the first
merged mapping winning.
"""

from __future__ import annotations

import re
from typing import Any

import yaml_rs

MERGE_KEY = "<<"

_DECLINED_CHARACTERS = re.compile(
    r"[\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]"
)
"""Characters the reference refuses or treats differently (tabs, controls, NEL, LS, PS, BOM)."""

_DECLINED_NODES = re.compile(
    r"""
    [\s\[{,](?=[-+!'"_.0-9]) (?:
          !                                         # a tag
        | ['"]<<['"]                                # a quoted '<<' key
        | [-+]?_[0-9_.eE+-]*(?=[\s,\]}:\#]|$)        # _1
        | [-+]?0[XOB]                               # 0X10, 0O17, 0B1
        | [-+]?\.[0-9_]*[eE]                        # .5e5
        | [-+]?\.(?!inf|Inf|INF|nan|NaN|NAN)(?:[iI][nN][fF]|[nN][aA][nN])   # .iNf
        | [-+]?[0-9][0-9_.]*[eE][-+]?[0-9]*_         # 1e1_0
        | [0-9]{4}-[0-9][0-9]?-[0-9][0-9]?          # a date
    )
    """,
    re.MULTILINE | re.VERBOSE,
)
"""Nodes yaml-rs could read differently, found where a node starts (after a space, `[`, `{` or
`,`). Kept apart from the characters: one pattern that starts with a character class is
scanned about twice as fast as an alternation of both."""


def declines(text: str) -> bool:
    """Whether yaml-rs could read `text` differently from the reference (see above)."""
    return bool(
        _DECLINED_CHARACTERS.search(text)
        or text.startswith("%")
        or "\n%" in text  # a directive
        or _DECLINED_NODES.search(text)
        # the first node has no separator before it: look at it as if it had one
        or _DECLINED_NODES.match("\n" + text[:64])
    )


class _NotLikeReference(Exception):
    """A merge key the reference would refuse; the reference reads the file and says why."""


def read_fast(text: str) -> dict[str, Any] | None:
    """The plain values of `text` (dicts, lists, scalars), exactly as the reference reads them.

    None when the reference must read the text: yaml-rs could read it differently, or it is not
    a valid single mapping (the reference then finds the problem and its line).
    """
    if declines(text):
        return None
    try:
        data = yaml_rs.loads(text, parse_datetime=False)
    except Exception:  # any refusal (syntax, duplicate key, alias limits): the reference reports
        return None
    if not isinstance(data, dict):
        return None
    if MERGE_KEY in text:
        try:
            data = _merge_keys(data)
        except _NotLikeReference:
            return None
    return data


def _merge_keys(node: Any) -> Any:
    """`node` with every `<<:` key applied as the reference applies it."""
    if isinstance(node, list):
        return [_merge_keys(item) for item in node]
    if not isinstance(node, dict):
        return node
    merged = {key: _merge_keys(value) for key, value in node.items() if key != MERGE_KEY}
    if MERGE_KEY not in node:
        return merged
    sources = node[MERGE_KEY]
    if isinstance(sources, dict):
        sources = [sources]
    if not isinstance(sources, list) or not all(isinstance(source, dict) for source in sources):
        raise _NotLikeReference  # the reference: "expected a mapping for merging"
    for source in sources:
        for key, value in _merge_keys(source).items():
            merged.setdefault(key, value)
    return merged
