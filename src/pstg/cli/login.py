"""`pstg login` and `pstg logout`: an access token for the commands that call a running
service's API (`pstg command`), kept per API URL in a file only the user reads
(`pstg.cli.credentials`). $PSTG_TOKEN (an API token from `pstg token create`) goes first when
set, so scripts need no login."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated

import typer

from pstg.cli.app import app, fail, one_line_errors, stderr
from pstg.cli.errors import exit_code
from pstg.cli.service_client import (
    LOGIN_PATH,
    ServiceClient,
    ServiceConfigOption,
    UrlOption,
    choose_service,
)
from pstg.errors import Invalid


@app.command()
def login(
    config: ServiceConfigOption = None,
    url: UrlOption = None,
    username: Annotated[
        str | None,
        typer.Option(
            "--user", "-u", metavar="NAME", help="The PSTG user (default: asked on the terminal)."
        ),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from the first line of stdin, for scripts "
            "(default: asked on the terminal, not echoed).",
        ),
    ] = False,
) -> None:
    """Log in to a running service and keep its access token for `pstg command`.

    The token (15 minutes by default) is stored with its URL and expiry in credentials.json
    in $PSTG_HOME or ~/.config/pstg, readable only by you; one login per service URL.
    """
    from pstg.cli.credentials import Login, save_login
    from pstg.model import utc_now

    service = choose_service(config, url)
    name = username or _ask_name()
    password = _read_password() if password_stdin else _ask_password(name, service.url)
    with one_line_errors(), ServiceClient(service, None) as client:
        issued = client.request("POST", LOGIN_PATH, data={"username": name, "password": password})
        token = str(issued["access_token"])
        expires_at = utc_now() + timedelta(seconds=int(issued["expires_in"]))
        me = client.request("GET", "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        path = save_login(Login(service.url, str(me["username"]), token, expires_at))
    from pstg.cli.users import format_when

    stderr.print(
        f"logged in to {service.url} as {me['username']!r} (role {me['role']}) until "
        f"{format_when(expires_at)}; token kept in {path}",
        markup=False,
    )


@app.command()
def logout(config: ServiceConfigOption = None, url: UrlOption = None) -> None:
    """Forget the stored login for a service (the token itself lapses when it expires)."""
    from pstg.cli.credentials import forget_login

    service = choose_service(config, url)
    with one_line_errors():
        forgotten = forget_login(service.url)
    if forgotten is None:
        stderr.print(f"not logged in to {service.url}", markup=False)
    else:
        stderr.print(f"logged out of {service.url} ({forgotten.username!r})", markup=False)


def _ask_name() -> str:
    if not sys.stdin.isatty():
        fail("no user name and no terminal to ask on: use -u NAME", exit_code(Invalid))
    import getpass

    name: str = typer.prompt("User", default=getpass.getuser(), err=True)
    return name.strip()


def _ask_password(name: str, url: str) -> str:
    if not sys.stdin.isatty():
        fail(
            "no terminal to ask the password on: use --password-stdin "
            "(or $PSTG_TOKEN with an API token instead of a login)",
            exit_code(Invalid),
        )
    password: str = typer.prompt(f"Password of {name} at {url}", hide_input=True, err=True)
    return password


def _read_password() -> str:
    line = sys.stdin.readline()
    password = line.removesuffix("\n").removesuffix("\r")
    if not password:
        fail("--password-stdin: stdin gave no password", exit_code(Invalid))
    return password
