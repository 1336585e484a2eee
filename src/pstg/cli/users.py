"""`pstg users`: add users, list them, set passwords and roles, disable and enable them.

Works on the database directly (`-c station.yaml` or `--database URL`), so it is also how the
first admin comes to be, and the way back in when every admin is locked out. Every change is
audited with the OS user as the actor (`via` cli), in the transaction that makes it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from pstg.auth.roles import ROLE_NAMES, Role
from pstg.cli.app import app, fail, one_line_errors, stderr, stdout
from pstg.cli.database_option import ConfigOption, DatabaseOption, choose_database
from pstg.cli.errors import FAILURE, exit_code
from pstg.errors import PstgError

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import Engine

PASSWORD_ENV = "PSTG_PASSWORD"
PROMPT_ATTEMPTS = 3

users_app = typer.Typer(
    help="Manage users and their roles (viewer < operator < engineer < admin).",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")

NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="The user's name.")]
PasswordOption = Annotated[
    str | None,
    typer.Option(
        "--password",
        envvar=PASSWORD_ENV,
        show_envvar=True,
        help="The password, for scripts (default: asked twice on the terminal, not echoed).",
    ),
]
ROLE_HELP = f"One of {', '.join(ROLE_NAMES)}."


@contextmanager
def auth_database(config: Path | None, database: str | None) -> Iterator[Engine]:
    """The chosen database, open and at the current schema; user errors become one line."""
    from pstg.auth.users import UserError
    from pstg.cli.database_option import open_database

    choice = choose_database(config, database)
    with one_line_errors():
        engine = open_database(choice)
        try:
            yield engine
        except UserError as exc:
            # A domain error keeps its exit code (pstg.cli.errors); others are failures.
            fail(str(exc), exit_code(exc) if isinstance(exc, PstgError) else FAILURE)
        finally:
            engine.dispose()


def parse_role(text: str) -> Role:
    try:
        return Role.parse(text)
    except ValueError as exc:
        fail(str(exc))


def new_password(given: str | None, name: str) -> str:
    """`given` (--password or $PSTG_PASSWORD), else one typed twice on the terminal."""
    if given is not None:
        return given
    if not sys.stdin.isatty():
        fail(
            f"no password for {name!r} and no terminal to ask on: "
            f"use --password PASSWORD or set {PASSWORD_ENV}"
        )
    from pstg.auth.passwords import check_password_rules

    for _ in range(PROMPT_ATTEMPTS):
        first: str = typer.prompt(f"Password for {name}", hide_input=True, err=True)
        try:
            check_password_rules(first, name)
        except ValueError as exc:
            stderr.print(f"{exc}; try again", markup=False)
            continue
        second: str = typer.prompt("Repeat the password", hide_input=True, err=True)
        if first == second:
            return first
        stderr.print("the two passwords differ; try again", markup=False)
    fail(f"no password set after {PROMPT_ATTEMPTS} attempts")


def format_when(ts: datetime | None, missing: str = "never") -> str:
    """A time for a table: UTC to the second."""
    if ts is None:
        return missing
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@users_app.command("add")
def add(
    name: NameArgument,
    role: Annotated[str, typer.Option("--role", "-r", metavar="ROLE", help=ROLE_HELP)],
    password: PasswordOption = None,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Add a user with a role; asks for the password unless --password or $PSTG_PASSWORD."""
    from pstg.audit import cli_actor
    from pstg.auth.admin import add_user
    from pstg.auth.users import check_user_name, list_users

    parsed = parse_role(role)
    with auth_database(config, database) as engine:
        check_user_name(name)
        # Said before asking for a password, not after (names are unique regardless of case).
        for existing in list_users(engine):
            if existing.name.lower() == name.lower():
                fail(f"user {existing.name!r} already exists")
        user = add_user(engine, cli_actor(), name, new_password(password, name), parsed)
    stderr.print(f"added user {user.name!r} with role {user.role.label}", markup=False)


@users_app.command("list")
def list_users(config: ConfigOption = None, database: DatabaseOption = None) -> None:
    """List the users: name, role, enabled, last login, failed logins."""
    from rich.table import Table

    from pstg.auth.users import list_users

    with auth_database(config, database) as engine:
        found = list_users(engine)
    if not found:
        add = choose_database(config, database).command("users add NAME --role admin")
        stderr.print(f"no users yet: add one with `{add}`", markup=False)
        return
    table = Table(
        "name", "role", "enabled", "last login", "failed logins", box=None, pad_edge=False
    )
    for column in table.columns:
        column.no_wrap = True
    for user in found:
        table.add_row(
            user.name,
            user.role.label,
            "yes" if user.enabled else "no",
            format_when(user.last_login_at),
            str(user.failed_logins),
        )
    stdout.print(table, markup=False)


@users_app.command("passwd")
def passwd(
    name: NameArgument,
    password: PasswordOption = None,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Set a user's password; the user's access tokens stop working at once (the password
    must not be one character repeated, contain the name, or be a common one)."""
    from pstg.audit import cli_actor
    from pstg.auth.admin import update_user
    from pstg.auth.users import get_user

    with auth_database(config, database) as engine:
        get_user(engine, name)  # before asking for a password of nobody
        update_user(engine, cli_actor(), name, password=new_password(password, name))
    stderr.print(f"password of {name!r} changed", markup=False)


@users_app.command("disable")
def disable(
    name: NameArgument, config: ConfigOption = None, database: DatabaseOption = None
) -> None:
    """Disable a user: logins and every token of the user stop working at once."""
    from pstg.audit import cli_actor
    from pstg.auth.admin import update_user

    with auth_database(config, database) as engine:
        update_user(engine, cli_actor(), name, enabled=False)
    stderr.print(f"user {name!r} disabled; their tokens no longer work", markup=False)


@users_app.command("enable")
def enable(
    name: NameArgument, config: ConfigOption = None, database: DatabaseOption = None
) -> None:
    """Enable a user again."""
    from pstg.audit import cli_actor
    from pstg.auth.admin import update_user

    with auth_database(config, database) as engine:
        update_user(engine, cli_actor(), name, enabled=True)
    stderr.print(f"user {name!r} enabled", markup=False)


@users_app.command("role")
def role(
    name: NameArgument,
    new_role: Annotated[str, typer.Argument(metavar="ROLE", help=ROLE_HELP)],
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Change a user's role; it applies to the user's next request, tokens included."""
    from pstg.audit import cli_actor
    from pstg.auth.admin import update_user

    parsed = parse_role(new_role)
    with auth_database(config, database) as engine:
        user = update_user(engine, cli_actor(), name, role=parsed)
    stderr.print(f"user {user.name!r} is now {user.role.label}", markup=False)
