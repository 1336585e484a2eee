"""`pstg token`: API tokens for machines (Grafana, scripts): create, list, revoke.

A token acts as its user, with that user's current role; give machines a user of their own
(usually a viewer) so a token can be revoked, or the user disabled, without locking people out.
Creating and revoking are audited with the OS user as the actor (`via` cli).
"""

from __future__ import annotations

from typing import Annotated

import typer

from pstg.cli.app import app, stderr, stdout
from pstg.cli.database_option import ConfigOption, DatabaseOption
from pstg.cli.users import auth_database, format_when

MAX_DAYS = 3650

token_app = typer.Typer(
    help="Manage API tokens for machines (Grafana, scripts); each acts as a user.",
    no_args_is_help=True,
)
app.add_typer(token_app, name="token")


@token_app.command("create")
def create(
    user: Annotated[str, typer.Argument(metavar="USER", help="The user the token acts as.")],
    name: Annotated[str, typer.Option("--name", "-n", help="What the token is for, e.g. grafana.")],
    expires_days: Annotated[
        int | None,
        typer.Option(
            "--expires-days", min=1, max=MAX_DAYS, help="Expire after N days (default: never)."
        ),
    ] = None,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Create an API token and print it on stdout: the only time it is shown."""
    from datetime import timedelta

    from pstg.audit import cli_actor
    from pstg.auth.admin import create_api_token
    from pstg.model import utc_now

    expires_at = None if expires_days is None else utc_now() + timedelta(days=expires_days)
    with auth_database(config, database) as engine:
        info, token = create_api_token(engine, cli_actor(), user, name, expires_at)
    typer.echo(token)
    stderr.print(
        f"API token {info.id} {info.name!r} for user {info.username!r}, expires "
        f"{format_when(info.expires_at)}; store it now: it cannot be shown again",
        markup=False,
    )


@token_app.command("list")
def list_tokens(
    user: Annotated[
        str | None, typer.Option("--user", "-u", metavar="USER", help="Only this user's tokens.")
    ] = None,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """List API tokens (never the tokens themselves): id, user, name, status, times."""
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
        "id", "user", "name", "status", "created", "expires", "last used", box=None, pad_edge=False
    )
    for column in table.columns:
        column.no_wrap = True
    for token in found:
        table.add_row(
            str(token.id),
            token.username,
            token.name,
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
