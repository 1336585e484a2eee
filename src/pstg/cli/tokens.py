"""`pstg token`: API tokens for machines (Grafana, scripts): create, list, revoke.

A token acts as its user, with that user's current role or, given `--role`, a lower one
(a read-only token for Grafana); give machines a user of their own (usually a viewer) so a
token can be revoked, or the user disabled, without locking people out. Tokens expire after
90 days unless `--expires` says otherwise (`--expires never` for none). Creating and revoking
are audited with the OS user as the actor (`via` cli).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer

from pstg.auth.roles import ROLE_NAMES
from pstg.cli.app import app, fail, stderr, stdout
from pstg.cli.database_option import ConfigOption, DatabaseOption
from pstg.cli.users import auth_database, format_when, parse_role

MAX_DAYS = 3650
DEFAULT_EXPIRES = "90d"
NEVER = "never"

token_app = typer.Typer(
    help="Manage API tokens for machines (Grafana, scripts); each acts as a user.",
    no_args_is_help=True,
)
app.add_typer(token_app, name="token")


@token_app.command("create")
def create(
    user: Annotated[str, typer.Argument(metavar="USER", help="The user the token acts as.")],
    name: Annotated[str, typer.Option("--name", "-n", help="What the token is for, e.g. grafana.")],
    role: Annotated[
        str | None,
        typer.Option(
            "--role",
            "-r",
            metavar="ROLE",
            help=f"The token's role, at most the user's: one of {', '.join(ROLE_NAMES)} "
            "(default: the user's role, whatever it is at each use).",
        ),
    ] = None,
    expires: Annotated[
        str,
        typer.Option(
            "--expires",
            metavar="WHEN",
            help="When the token expires: after a duration (90d, 12w, 1h), at a time "
            f"(2027-01-01T00:00Z, now+30d), or {NEVER}.",
        ),
    ] = DEFAULT_EXPIRES,
    expires_days: Annotated[
        int | None,
        typer.Option(
            "--expires-days", min=1, max=MAX_DAYS, hidden=True, help="Old form of --expires Nd."
        ),
    ] = None,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Create an API token and print it on stdout: the only time it is shown. What was made
    (user, role, expiry) goes to stderr."""
    from pstg.audit import cli_actor
    from pstg.auth.admin import create_api_token
    from pstg.model import utc_now

    now = utc_now()
    expires_at = expiry(expires, now) if expires_days is None else now + timedelta(expires_days)
    token_role = None if role is None else parse_role(role)
    with auth_database(config, database) as engine:
        from pstg.auth.users import get_user

        owner = get_user(engine, user)
        info, token = create_api_token(engine, cli_actor(), user, name, expires_at, role=token_role)
    typer.echo(token)
    if info.role is None:
        acts_as = f"role {owner.role.label} (the user's, following it if it changes)"
    else:
        acts_as = f"role {info.role.label}"
    when = "never expires" if info.expires_at is None else f"expires {format_when(info.expires_at)}"
    stderr.print(
        f"API token {info.id} {info.name!r} for user {info.username!r}: {acts_as}, {when}; "
        "store it now: it cannot be shown again",
        markup=False,
    )


def expiry(text: str, now: datetime) -> datetime | None:
    """--expires: `never`, a duration from now, or an instant (the one time grammar)."""
    from pstg.cli.errors import exit_code
    from pstg.errors import Invalid
    from pstg.times import InvalidDuration, InvalidTime, parse_duration, parse_instant

    usage = exit_code(Invalid)
    if text.strip().lower() == NEVER:
        return None
    try:
        seconds = parse_duration(text)
    except InvalidDuration:
        try:
            when = parse_instant(text, now=now)
        except InvalidTime as exc:
            fail(f"--expires: expected a duration, a time or {NEVER}: {exc}", usage)
    else:
        if seconds <= 0 or seconds > MAX_DAYS * 86400:
            fail(f"--expires: {text!r} must be more than 0 and at most {MAX_DAYS} days", usage)
        when = now + timedelta(seconds=seconds)
    if when <= now:
        fail(f"--expires: {text!r} is in the past", usage)
    return when


@token_app.command("list")
def list_tokens(
    user: Annotated[
        str | None, typer.Option("--user", "-u", metavar="USER", help="Only this user's tokens.")
    ] = None,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """List API tokens (never the tokens themselves): id, user, name, role, status, times."""
    from rich.table import Table

    from pstg.auth.users import list_api_tokens
    from pstg.model import utc_now

    with auth_database(config, database) as engine:
        found = list_api_tokens(engine, user)
    if not found:
        stderr.print("no API tokens" + (f" of {user!r}" if user else ""), markup=False)
        return
    now = utc_now()
    table = Table(
        "id", "user", "name", "role", "status", "created", "expires", "last used",
        box=None, pad_edge=False,
    )  # fmt: skip
    for column in table.columns:
        column.no_wrap = True
    for token in found:
        table.add_row(
            str(token.id),
            token.username,
            token.name,
            "(user's)" if token.role is None else token.role.label,
            token.status(now),
            format_when(token.created_at),
            format_when(token.expires_at),
            format_when(token.last_used_at),
        )
    stdout.print(table, markup=False)


@token_app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's id (token list).")],
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Revoke an API token: it stops working at once."""
    from pstg.audit import cli_actor
    from pstg.auth.admin import revoke_api_token

    with auth_database(config, database) as engine:
        info = revoke_api_token(engine, cli_actor(), token_id)
    stderr.print(f"API token {info.id} {info.name!r} of {info.username!r} revoked", markup=False)
