"""The fast reader reads every text it accepts exactly as the reference (ruamel round-trip) does.

`read_fast` may decline a text (None: the reference reads it); it must never read one
differently. Checked on every case file, on every scalar of up to three characters from the
characters that matter to number and keyword syntax, on the YAML 1.1/1.2 traps by name, and on
generated documents.
"""

import itertools
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml.error import YAMLError

from pstg.config.fast_yaml import read_fast
from pstg.config.loader import reference_values

CASES = Path(__file__).parent / "cases"


def shape(value: Any) -> Any:
    """`value` with its order and exact types made comparable (dict order, int vs bool, NaN).

    The reference keeps ruamel's int subclass for a key such as `0:` (values are made plain);
    both are ints, and a key that is not text never passes validation anyway.
    """
    if isinstance(value, dict):
        return ("map", [(shape(k), shape(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [shape(item) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    kind = next((t for t in (bool, int, float, str) if isinstance(value, t)), type(value))
    return (kind.__name__, value)


RUAMEL_DEFECT = "ruamel crashes"
"""ruamel 0.18 resolves `._` as a float and `0x_` as an int, then fails to build them (a bare
ValueError or IndexError, not a YAML error). The fast reader reads such a scalar as text; where
a file needs it as a number, the reference is asked again and fails as before."""


def reference_or_none(text: str) -> Any:
    try:
        return reference_values(text)
    except YAMLError:  # what the reference refuses, the fast reader must decline
        return None
    except Exception:
        return RUAMEL_DEFECT


def assert_alike(text: str) -> bool:
    """Assert that the fast reader declines `text` or reads it as the reference; True if read."""
    fast = read_fast(text)
    if fast is None:
        return False
    reference = reference_or_none(text)
    if reference == RUAMEL_DEFECT:
        return True
    assert isinstance(reference, dict), f"the reference refuses {text!r}"
    assert shape(fast) == shape(reference), text
    return True


@pytest.mark.parametrize("case", sorted(path.name for path in CASES.iterdir()))
def test_every_case_file_reads_alike(case):
    assert_alike((CASES / case / "station.yaml").read_text(encoding="utf-8-sig"))


def test_the_valid_case_files_take_the_fast_path():
    for case in ("valid_full", "valid_minimal", "alarm_kinds", "yaml_12_values"):
        text = (CASES / case / "station.yaml").read_text(encoding="utf-8-sig")
        assert read_fast(text) is not None, case


# Characters that decide how a plain scalar resolves: digits, signs, radix letters, exponents,
# underscores and dots (inf, nan and the keywords are among the spellings below).
SCALAR_CHARS = "019af_.eE+-xXoOB"
SPELLINGS = [
    ".inf",
    ".Inf",
    ".INF",
    ".iNf",
    "-.inf",
    "+.inf",
    ".nan",
    ".NaN",
    ".NAN",
    ".nAn",
    "+.nan",
    "null",
    "Null",
    "NULL",
    "nULL",
    "~",
    "true",
    "True",
    "TRUE",
    "tRue",
    "false",
    "False",
    "FALSE",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "1e10",
    "1.5e-3",
    ".5e5",
    ".5e+5",
    "-.5",
    "+.5",
    "1_000",
    "1_0e1_0",
    "1e1_0",
    "0x8000",
    "0X8000",
    "0o17",
    "0O17",
    "017",
    "0b101",
    "0B101",
    "_1",
    "-_1",
    "2024-01-01",
    "2024-1-1",
    "10:00:00",
    "1:20",
    "1:20:30.5",
    "0x_10",
    "1__0",
    "2024-01-01 10:00:00",
    "2024-01-01T10:00:00Z",
]


def scalars(longest: int) -> list[str]:
    """Every plain scalar of SCALAR_CHARS up to `longest` characters, and the spellings."""
    short = (
        "".join(chars)
        for n in range(1, longest + 1)
        for chars in itertools.product(SCALAR_CHARS, repeat=n)
    )
    return [*short, *SPELLINGS, "-0x10", "-0o7", "-1.5", "-1e3", "-_0", "-0X1"]


def compare_alike(template: str, tokens: list[str]) -> int:
    """`assert_alike` for each token in `template`, the reference reading many per document.

    One reference read per token is slow; a document that the reference refuses (or crashes on)
    is halved until the token responsible is compared on its own. Returns the number read fast.
    """
    reference = reference_or_none(
        "".join(f"k{n}: {template.format(token)}\n" for n, token in enumerate(tokens))
    )
    if not isinstance(reference, dict):
        if len(tokens) == 1:
            return int(assert_alike(f"k: {template.format(tokens[0])}\n"))
        half = len(tokens) // 2
        return compare_alike(template, tokens[:half]) + compare_alike(template, tokens[half:])
    read = 0
    for n, token in enumerate(tokens):
        text = f"k: {template.format(token)}\n"
        fast = read_fast(text)
        if fast is not None:
            assert shape(fast["k"]) == shape(reference[f"k{n}"]), text
            read += 1
    return read


@pytest.mark.parametrize(
    ("template", "longest"),
    [("{}", 3), ("[{}]", 2), ("{{{}: 1}}", 2)],
    ids=["value", "item", "key"],
)
def test_every_short_scalar_reads_alike(template, longest):
    tokens = scalars(longest)
    read = sum(compare_alike(template, tokens[n : n + 256]) for n in range(0, len(tokens), 256))
    assert read > 0.85 * len(tokens)  # the fast reader declines only the few that differ


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # YAML 1.1 booleans are text in YAML 1.2, in both readers
        ("a: yes\nb: No\nc: on\nd: OFF\ne: y\n", {"a": "yes", "b": "No", "c": "on", "d": "OFF",
                                                  "e": "y"}),
        ("a: true\nb: False\n", {"a": True, "b": False}),
        # numbers: hex, 1.2 octal, a leading zero (decimal in 1.2), underscores
        ("a: 0x8000\nb: 0o17\nc: 017\nd: 1_000\ne: 0b101\n", {"a": 32768, "b": 15, "c": 17,
                                                            "d": 1000, "e": 5}),
        ("a: 1:20\nb: 1.5e3\nc: .inf\nd: ~\ne:\n", {"a": "1:20", "b": 1500.0, "c": math.inf,
                                                  "d": None, "e": None}),
        # anchors, aliases and merges: own keys first, then merged ones, the first merge wins
        ("x: &x {p: 1, q: 2}\ny: &y {q: 9, s: 5}\nz: {<<: [*x, *y], r: 4, p: 0}\n",
         {"x": {"p": 1, "q": 2}, "y": {"q": 9, "s": 5}, "z": {"r": 4, "p": 0, "q": 2, "s": 5}}),
        ("x: &x {p: 1}\nz: {<<: *x}\nw: *x\n", {"x": {"p": 1}, "z": {"p": 1}, "w": {"p": 1}}),
        ("x: &t true\ny: *t\n", {"x": True, "y": True}),
    ],
)  # fmt: skip
def test_yaml_traps_read_as_yaml_1_2(text, expected):
    assert read_fast(text) == expected
    assert shape(reference_values(text)) == shape(expected)


@pytest.mark.parametrize(
    "text",
    [
        "%YAML 1.1\n---\na: yes\n",  # a directive changes how scalars resolve
        "a: !local 5\n",  # tags
        "a: !!binary aGVsbG8=\n",
        "a: ! 1\n",
        "a: 0X10\n",  # spellings yaml-rs reads as numbers and the reference as text
        "a: _1\n",
        "a: 1e1_0\n",
        "a: .iNf\n",
        "a: 2024-01-01\n",  # the reference reads a date
        "a: 1\tb\n",  # a tab
        "a: x\x85y\n",  # NEL, a line break to yaml-rs
        "\ufeffa: 1\n",  # a BOM load_config_text was given without load_config stripping it
        "a: {p: 1}\nb: {'<<': 2}\n",  # a quoted '<<' is a key, not a merge
        "x: &x 5\nz: {<<: *x}\n",  # a merge of a scalar: the reference refuses it
        "a: 1\na: 2\n",  # duplicate keys: both refuse
        "a: 1\n---\nb: 2\n",  # two documents
        "- a\n",  # not a mapping
        "",
    ],
)
def test_the_fast_reader_declines_what_only_the_reference_may_read(text):
    assert read_fast(text) is None


# Generated documents: nested block and flow collections of tricky scalars, with anchors,
# aliases and merges.
tokens = st.sampled_from([*SPELLINGS, "plc1", "'quoted'", '"dq"', "a b", "x#y", "x: y", "12", ""])
keys = st.sampled_from(["id", "name", "a", "b", "0x10", "yes", "1", "'q'", "_k", "k.k", "<<"])


def flow(node: Any) -> str:
    if isinstance(node, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in node.items()) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(flow(item) for item in node) + "]"
    return str(node)


def block(node: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict | list) and value and len(lines) % 2 == 0:
                lines += [f"{pad}{key}:", *block(value, indent + 2)]
            else:
                lines.append(f"{pad}{key}: {flow(value)}")
    else:
        for item in node:
            lines.append(f"{pad}- {flow(item)}")
    return lines


nodes = st.recursive(
    tokens,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    body=st.dictionaries(keys, nodes, min_size=1, max_size=4),
    merge=st.booleans(),
)
def test_generated_documents_read_alike(body, merge):
    lines = ["base: &base {p: 1, q: [0x10, yes]}"] if merge else []
    lines += block(body, 0)
    if merge:
        lines += ["merged:", "  <<: *base", "  q: 2", "alias: *base"]
    assert_alike("\n".join(lines) + "\n")
