"""Config problems, the one error that carries all of them, and plain words for pydantic's.

    ConfigError                  raised by the loader; `.problems` lists every problem found
    └── ConfigProblem            file, 1-based line, location (`devices[0].tags[4].type`), message

A user fixing a station.yaml wants every mistake in one run, each with the line to go to, in
words about their file rather than about Python types. `describe_error` does that translation
for one pydantic error; the loader adds the file and line.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from pstg.config.models import TAG_NAME_PATTERN

Loc = tuple[str | int, ...]
"""A path into the config tree, as pydantic reports it: ("devices", 0, "tags", 4, "type")."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem in a config file. `line` is 1-based; None when no line applies."""

    file: str
    line: int | None
    location: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.location:
            return f"{where} {self.location}: {self.message}"
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """A config file that cannot be used; `problems` holds all that were found, in line order."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        count = len(self.problems)
        lines = "\n".join(str(problem) for problem in self.problems)
        return f"{count} problem{'' if count == 1 else 's'} in the config:\n{lines}"


def format_location(loc: Loc) -> str:
    """`("devices", 0, "tags", 4, "type")` -> `devices[0].tags[4].type`; () -> ``."""
    text = ""
    for step in loc:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else step
    return text


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to a probable typo, if one is close enough to be worth saying."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.7)
    return matches[0] if matches else None


def show_value(value: object) -> str:
    """A config value as the user wrote it, or what kind of thing it is."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return repr(value)
    return str(value)


# Regex patterns of models.py in words; a user should never have to read a regex.
_PATTERN_WORDS = {
    TAG_NAME_PATTERN: "use letters, digits, '_', '.' and '-', starting with a letter or '_'",
    r"^[A-Za-z0-9_.\-]+$": "use only letters, digits, '_', '.' and '-'",
}


@dataclass(frozen=True, slots=True)
class _Target:
    """What a pydantic error location points at in the model classes."""

    container: type[BaseModel] | None  # the model whose key the error is about
    field: FieldInfo | None  # that key's field, when it is a known one
    name: str  # the key's name, for messages ("type", "address", ...)


@dataclass(frozen=True, slots=True)
class Wording:
    """One pydantic error in plain words.

    `loc` is where the error is in the file (for its line); `report_loc` is the location shown,
    which for a problem with a key (unknown, missing, not text) is the mapping holding it.
    """

    loc: Loc
    report_loc: Loc
    message: str


def describe_errors(errors: Iterable[ErrorDetails], root: type[BaseModel]) -> list[Wording]:
    """Plain words for pydantic's errors against model `root`, one per actual mistake.

    A misspelt key shows up twice in pydantic, as an unknown `adress` and a missing `address`;
    the user made one mistake, so the "missing" half is dropped when the typo explains it.
    """
    errors = list(errors)
    explained = {
        (*tuple(error["loc"])[:-1], fix)
        for error in errors
        if error["type"] == "extra_forbidden"
        and (fix := _known_key_like(root, tuple(error["loc"]))) is not None
    }
    return [
        describe_error(error, root)
        for error in errors
        if not (error["type"] == "missing" and tuple(error["loc"]) in explained)
    ]


def describe_error(error: ErrorDetails, root: type[BaseModel]) -> Wording:
    """Where a pydantic error should be reported and what to say, in plain words."""
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    value = error["input"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    target = _target(root, loc)
    name = target.name
    parent = loc[:-1]

    if kind == "missing":
        if loc and isinstance(loc[-1], int):
            return Wording(loc, parent, _missing_item(target, value))
        return Wording(loc, parent, f"missing required key '{loc[-1]}'" if loc else "missing")
    if kind == "extra_forbidden":
        return Wording(loc, parent, _unknown_key(str(loc[-1]), target.container))
    if kind == "invalid_key":
        return Wording(loc, parent, f"keys must be text, got {show_value(value)}")
    if loc and loc[-1] == "[key]":  # a key of a free-form mapping (`options`) that is not text
        return Wording(loc, loc[:-2], f"keys must be text, got {show_value(value)}")
    if kind in ("enum", "literal_error"):
        choices = _choices(str(ctx.get("expected", "")))
        return Wording(loc, loc, _unknown_choice(name, value, choices))
    return Wording(loc, loc, _value_message(kind, name, value, ctx, target.field, error["msg"]))


def _known_key_like(root: type[BaseModel], loc: Loc) -> str | None:
    """The model key that the unknown key at `loc` is probably a typo of."""
    container = _target(root, loc).container
    if container is None or not loc:
        return None
    return suggest(str(loc[-1]), container.model_fields)


def _value_message(
    kind: str,
    name: str,
    value: object,
    ctx: Mapping[str, Any],
    field: FieldInfo | None,
    fallback: str,
) -> str:
    """Words for a problem with a value (as opposed to a key)."""
    got = show_value(value)
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"expected a whole number, got {got}"
    if kind in ("float_parsing", "float_type"):
        return f"expected a number, got {got}"
    if kind == "finite_number":
        return f"expected a finite number, got {got}"
    if kind in ("bool_parsing", "bool_type"):
        return f"expected true or false, got {got}"
    if kind == "string_type":
        if isinstance(value, int | float):  # YAML read `id: 1` as a number
            return f'expected text, got {got} (put it in quotes: "{got}")'
        return f"expected text, got {got}"
    if kind == "string_pattern_mismatch":
        rule = _PATTERN_WORDS.get(str(ctx.get("pattern")), f"must match {ctx.get('pattern')}")
        return f"invalid {name} {got}: {rule}"
    if kind == "string_too_long":
        return f"{name} is too long: at most {ctx.get('max_length')} characters"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{name} {got} is out of range: {_bounds(field, ctx)}"
    if kind == "list_type":
        return f"expected a list (items starting with '- '), got {got}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping (key: value lines), got {got}"
    if kind == "tuple_type":
        return f"expected a list such as [low, high], got {got}"
    if kind == "too_long":
        return f"expected at most {ctx.get('max_length')} items, got {ctx.get('actual_length')}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} items, got {ctx.get('actual_length')}"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])  # our own validators already speak plainly
    return fallback[:1].lower() + fallback[1:]


def _unknown_key(key: str, container: type[BaseModel] | None) -> str:
    if container is None:
        return f"unknown key '{key}'"
    allowed = list(container.model_fields)
    match = suggest(key, allowed)
    if match:
        return f"unknown key '{key}' (did you mean '{match}'?)"
    return f"unknown key '{key}' (allowed: {', '.join(allowed)})"


def _unknown_choice(name: str, value: object, choices: list[str]) -> str:
    word = "unknown" if isinstance(value, str) else "invalid"
    listed = f"expected one of: {', '.join(choices)}"
    match = suggest(value, choices) if isinstance(value, str) else None
    if match:
        return f"{word} {name} {show_value(value)} (did you mean '{match}'? {listed})"
    return f"{word} {name} {show_value(value)} ({listed})"


def _missing_item(target: _Target, value: object) -> str:
    """A fixed-size list (such as `range: [low, high]`) that is too short."""
    got = len(value) if isinstance(value, Collection) else 0
    size = None
    if target.field is not None:
        tuples = [arg for arg in _unwrap(target.field.annotation) if arg is not type(None)]
        if tuples and get_origin(tuples[0]) is tuple:
            size = len(get_args(tuples[0]))
    if size is None:
        return f"{target.name}: too few items ({got})"
    return f"expected {size} items, got {got}"


def _choices(expected: str) -> list[str]:
    """pydantic's `'a', 'b' or 'c'` as ["a", "b", "c"]."""
    parts = expected.replace(" or ", ", ").split(", ")
    return [part.strip().strip("'") for part in parts if part.strip()]


def _bounds(field: FieldInfo | None, ctx: Mapping[str, Any]) -> str:
    """`must be between 0 and 65535`, from the field's limits (both ends when it has them)."""
    limits = dict(ctx)
    for rule in field.metadata if field is not None else ():
        for key in ("ge", "gt", "le", "lt"):  # annotated_types.Ge/Gt/Le/Lt
            if hasattr(rule, key):
                limits[key] = getattr(rule, key)
    if "ge" in limits and "le" in limits:
        return f"must be between {limits['ge']} and {limits['le']}"
    words = [
        f"{label} {limits[key]}"
        for key, label in (("ge", "at least"), ("gt", "above"), ("le", "at most"), ("lt", "below"))
        if key in limits
    ]
    return f"must be {' and '.join(words)}"


def _target(root: type[BaseModel], loc: Loc) -> _Target:
    """Follow `loc` through the model classes to the key it ends on."""
    container: type[BaseModel] | None = None
    model: type[BaseModel] | None = root
    field: FieldInfo | None = None
    name = ""
    for step in loc:
        if isinstance(step, int):
            continue  # a list index: the item model was already taken from the list's type
        container, name = model, step
        field = model.model_fields.get(step) if model is not None else None
        model = _model_in(field.annotation) if field is not None else None
    return _Target(container=container, field=field, name=name)


def _unwrap(annotation: Any) -> tuple[Any, ...]:
    """The alternatives of `X | None` (or just `(X,)`)."""
    if get_origin(annotation) in (Union, UnionType):
        return get_args(annotation)
    return (annotation,)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside an annotation such as `list[TagConfig]` or `ApiConfig | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
