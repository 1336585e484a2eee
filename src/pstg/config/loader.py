"""Load station.yaml: read, parse, validate, cross-check; every problem at once, with its line.

Two readers, one answer. A file is first read the fast way (`fast_yaml.read_fast`: yaml-rs, no
line numbers, about 100x faster), validated and checked; when that finds nothing to report, that
is the config. Otherwise — a problem to report, or a text the fast reader declines — the file is
read again by the reference, ruamel.yaml's round-trip loader, which keeps the line of every key
and list item, and validated and checked again, so each problem (from YAML itself, from the
pydantic models or from the whole-station checks) is reported as `file:line location: message`
exactly as when the reference was the only reader. A big file with a mistake pays the slow read.

The config layer's own checks always run (`checks.check_station`); the layers above pass theirs
as `checks` (`pstg.station.load_station` passes every layer's). Nothing here prints; the CLI
decides how problems are shown.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from pstg.config.checks import Finding, LineOf, StationCheck, check_station, no_lines
from pstg.config.errors import ConfigError, ConfigProblem, Loc, describe_errors, format_location
from pstg.config.fast_yaml import read_fast
from pstg.config.models import StationConfig
from pstg.config.notification_checks import check_notifications

__all__ = ["ConfigError", "ConfigProblem", "load_config", "load_config_text"]


def load_config(
    path: str | os.PathLike[str], *, checks: Sequence[StationCheck] = ()
) -> StationConfig:
    """The validated station config in the file at `path`; raise ConfigError listing every problem.

    `checks` are the whole-station checks of the layers above, run after this layer's own.
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
    del data  # the text is all that is needed from here; a big file's bytes need not stay
    return load_config_text(text, name, checks=checks)


def load_config_text(
    text: str, filename: str = "station.yaml", *, checks: Sequence[StationCheck] = ()
) -> StationConfig:
    """The validated station config in `text`; `filename` is only used in problem reports."""
    with _collector_paused():
        config = _read_quickly(text, checks)
        if config is not None:
            return config
        return _read_with_lines(text, filename, checks)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file loads.

    Loading makes millions of objects and no cycles, and the collector walks every live object
    at each full collection it starts along the way: a third of a 100,000-tag load was spent
    there, more the bigger the file (bench/config.py). Reference counting still frees what
    loading drops; the collector runs again afterwards if it was running before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_quickly(text: str, checks: Sequence[StationCheck]) -> StationConfig | None:
    """The config, when the fast reader reads `text` and nothing is wrong with it; else None."""
    data = read_fast(text)
    if data is None:
        return None
    try:
        config = StationConfig.model_validate(data)
    except ValidationError:
        return None
    del data  # the plain tree is garbage once validated; do not hold it through the checks
    if _findings(config, checks, no_lines):
        return None
    return config


def _read_with_lines(text: str, filename: str, checks: Sequence[StationCheck]) -> StationConfig:
    """The reference read: the config, or ConfigError with the line of every problem."""
    tree = _parse(text, filename)
    try:
        config = StationConfig.model_validate(_plain(tree))
    except ValidationError as exc:
        problems = (
            ConfigProblem(filename, _line_of(tree, w.loc), format_location(w.report_loc), w.message)
            for w in describe_errors(exc.errors(include_url=False), StationConfig)
        )
        raise ConfigError(_in_line_order(problems)) from exc

    findings = _findings(config, checks, lambda loc: _line_of(tree, loc))
    if findings:
        raise ConfigError(
            _in_line_order(
                ConfigProblem(filename, _line_of(tree, f.loc), format_location(f.loc), f.message)
                for f in findings
            )
        )
    return config


def _findings(
    config: StationConfig, checks: Sequence[StationCheck], line_of: LineOf
) -> list[Finding]:
    """This layer's whole-station findings, then those of each check given, in that order."""
    findings = check_station(config, line_of)
    findings += check_notifications(config, line_of)
    for check in checks:
        findings += check(config, line_of)
    return findings


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


def reference_values(text: str) -> Any:
    """The plain values the reference reader finds in `text` (ruamel.yaml's YAMLError if none).

    What the fast reader must equal wherever it does not decline; tests and benchmarks compare.
    """
    return _plain(YAML(typ="rt").load(text))


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
