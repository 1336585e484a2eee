"""Load station.yaml: read, parse with line numbers, validate, cross-check; all problems at once.

ruamel.yaml's round-trip loader keeps the line of every key and list item, so each problem —
from YAML itself, from the pydantic models or from the whole-station checks — is reported as
`file:line location: message`. Nothing here prints; the CLI decides how problems are shown.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from pstg.config.checks import check_station
from pstg.config.errors import ConfigError, ConfigProblem, Loc, describe_errors, format_location
from pstg.config.models import StationConfig

__all__ = ["ConfigError", "ConfigProblem", "load_config", "load_config_text"]


def load_config(path: str | os.PathLike[str]) -> StationConfig:
    """The validated station config in the file at `path`; raise ConfigError listing every problem.

    Problems name the file as given, so `pstg check-config site/station.yaml` points at
    `site/station.yaml:12`.
    """
    name = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise _single(name, "file not found") from exc
    except IsADirectoryError as exc:
        raise _single(name, "is a directory, not a config file") from exc
    except OSError as exc:
        raise _single(name, f"cannot read the file: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")  # tolerate the BOM some Windows editors write
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        raise _single(
            name, f"not valid UTF-8 (byte 0x{byte:02x}); save the file as UTF-8", line
        ) from exc
    return load_config_text(text, name)


def load_config_text(text: str, filename: str = "station.yaml") -> StationConfig:
    """The validated station config in `text`; `filename` is only used in problem reports."""
    tree = _parse(text, filename)
    try:
        config = StationConfig.model_validate(_plain(tree))
    except ValidationError as exc:
        problems = (
            ConfigProblem(filename, _line_of(tree, w.loc), format_location(w.report_loc), w.message)
            for w in describe_errors(exc.errors(include_url=False), StationConfig)
        )
        raise ConfigError(_in_line_order(problems)) from exc

    findings = check_station(config, line_of=lambda loc: _line_of(tree, loc))
    if findings:
        raise ConfigError(
            _in_line_order(
                ConfigProblem(filename, _line_of(tree, f.loc), format_location(f.loc), f.message)
                for f in findings
            )
        )
    return config


def _parse(text: str, filename: str) -> CommentedMap:
    """The YAML tree of `text`, which must be one mapping."""
    yaml = YAML(typ="rt")  # round-trip: nodes remember their lines
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        raise _single(filename, *_yaml_problem(exc)) from exc
    except ReaderError as exc:  # a control character: no mark, but a position in the text
        line = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = f"YAML syntax error: {exc.reason} (U+{code:04X})"
        raise _single(filename, message, line) from exc
    except YAMLError as exc:
        raise _single(filename, f"YAML syntax error: {exc}") from exc
    if tree is None:
        raise _single(filename, "the file is empty; a config needs at least 'station: {id: ...}'")
    if not isinstance(tree, CommentedMap):
        line = tree.lc.line + 1 if isinstance(tree, CommentedSeq) else 1
        kind = "a list" if isinstance(tree, CommentedSeq) else f"{tree!r}"
        raise _single(
            filename,
            f"the top level must be a mapping of keys (station:, devices:, ...), got {kind}",
            line,
        )
    return tree


def _yaml_problem(exc: MarkedYAMLError) -> tuple[str, int | None]:
    """Message and line of a YAML error; the context says where an unclosed thing started."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    message = f"YAML syntax error: {exc.problem or exc.context or 'invalid YAML'}"
    context = exc.context_mark
    if exc.problem and exc.context and context is not None and context.line + 1 != line:
        # e.g. "while parsing a flow mapping": name the line the mapping was opened on
        message += f" ({exc.context} that starts on line {context.line + 1})"
    return message, line


def _plain(node: Any) -> Any:
    """The tree as plain dicts, lists and scalars.

    ruamel's subclasses (HexInt for `0x8000`, ScalarFloat, ScalarBoolean for anchored booleans)
    are not what pydantic's `Literal[1, 2]` or bool fields expect, so validate plain values and
    keep the ruamel tree only for its line numbers.
    """
    if isinstance(node, CommentedMap):
        return {key: _plain(value) for key, value in node.items()}  # items() includes merges
    if isinstance(node, CommentedSeq):
        return [_plain(item) for item in node]
    if isinstance(node, TaggedScalar):  # `!tag value`: tags mean nothing here, keep the value
        return _plain(node.value)
    if isinstance(node, ScalarBoolean):
        return bool(node)
    if isinstance(node, bool):
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def _line_of(tree: CommentedMap, loc: Loc) -> int:
    """1-based line of the deepest part of `loc` present in the file.

    A key that is missing (or defaulted) resolves to the line of the mapping that lacks it.
    """
    line: int = tree.lc.line
    node: Any = tree
    for step in loc:
        if isinstance(node, CommentedMap) and step in node:
            if step in node.lc.data:  # keys pulled in by a `<<:` merge have no line here
                line = node.lc.key(step)[0]
            node = node[step]
        elif isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
            line = node.lc.item(step)[0]
            node = node[step]
        else:
            break
    return line + 1


def _in_line_order(problems: Iterable[ConfigProblem]) -> list[ConfigProblem]:
    # Stable: problems on one line keep the order they were found in.
    return sorted(problems, key=lambda problem: problem.line or 0)


def _single(filename: str, message: str, line: int | None = None) -> ConfigError:
    return ConfigError([ConfigProblem(filename, line, "", message)])
