"""Every command's and subcommand's --help, rendered as a user sees it on an 80-column
terminal: flags show no value placeholder (`--force`, not `--force <bool>`), options that take
a value show one, and prose is wrapped by the terminal's width, not by the docstring's lines."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from pstg.cli import app

WIDTH = 80
ROOM = 70
"""A line break with this much room left for the next word is premature at any width >= 70."""


def commands() -> list[tuple[list[str], Any]]:
    """(path, command) for the app, every command and every subcommand."""
    found = []

    def walk(path: list[str], command) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk([*path, name], sub)

    walk([], typer.main.get_command(app))
    return found


COMMANDS = commands()
IDS = [" ".join(path) or "pstg" for path, _ in COMMANDS]


def render(path: list[str]) -> str:
    result = CliRunner().invoke(
        app, [*path, "--help"], env={"COLUMNS": str(WIDTH)}, terminal_width=WIDTH
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_is_covered() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"", "run", "demo", "seed", "export", "users add", "audit list", "token create"} <= (
        names
    )


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_shows_placeholders_only_for_values(path, command) -> None:
    text = render(path)
    assert "<bool>" not in text
    for param in command.params:
        if param.param_type_name != "option" or param.hidden:
            continue
        name = max(param.opts, key=len)
        option = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
        listed = text.partition("\nOptions:\n")[2].splitlines()
        # The option's own line: it starts in the option column, two spaces in (a help text
        # that mentions the option, wrapped onto the help column, is not it).
        line = next(
            line
            for line in listed
            if line.startswith("  -") and option.search(re.split(r"\s{2,}", line.strip())[0])
        )
        placeholder = re.search(rf"{re.escape(name)}[ =]([A-Z<\[][^\s,]*)", line)
        if param.is_flag:
            assert placeholder is None, f"{path}: flag {param.opts} shows {placeholder}: {line}"
        elif param.nargs == 1 and not param.count:
            assert placeholder is not None, f"{path}: {param.opts} hides its value: {line}"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_prose_is_wrapped_by_width_not_by_source_lines(path, command) -> None:
    text = render(path)
    lines = [line.rstrip() for line in text.splitlines()]
    doc = inspect.cleandoc(command.help or "").partition("\f")[0]
    for paragraph in doc.split("\n\n"):
        words = paragraph.split()
        if not words:
            continue
        # The lines that hold this paragraph: from the one starting with its first words.
        start = next(
            (i for i, line in enumerate(lines) if line.strip().startswith(" ".join(words[:3]))),
            None,
        )
        assert start is not None, f"{path}: paragraph not shown: {paragraph[:60]!r}"
        shown: list[str] = []
        end = start
        while end < len(lines) and lines[end].strip() and len(" ".join(shown).split()) < len(words):
            shown.append(lines[end].strip())
            end += 1
        assert " ".join(shown).split() == words, f"{path}: paragraph changed: {shown}"
        for line, after in zip(lines[start : end - 1], lines[start + 1 : end], strict=True):
            next_word = after.split()[0]
            assert len(line) + 1 + len(next_word) > ROOM, (
                f"{path}: line broken early, {next_word!r} would fit: {line!r}"
            )
