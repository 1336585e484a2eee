"""`pstg seed`: write a station.yaml matched to the simulator."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from pstg.cli.app import app, fail, stderr
from pstg.cli.errors import exit_code
from pstg.errors import Conflict
from pstg.files import write_private

# `pstg simulate`'s defaults: the hint names only the options that differ from them.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 15020
DEFAULT_UNIT = 1


@app.command()
def seed(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the config.")
    ] = Path("station.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    host: Annotated[str, typer.Option(help="Simulator address the config polls.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Simulator port.")] = DEFAULT_PORT,
    unit: Annotated[int, typer.Option(min=1, max=247, help="Simulator unit id.")] = DEFAULT_UNIT,
    database: Annotated[
        str, typer.Option(help="Storage URL written into the config.")
    ] = "sqlite:///pstg.db",
    admin: Annotated[
        str | None,
        typer.Option(
            help="Also migrate the config's database and create this first admin user "
            "(password from --password or PSTG_PASSWORD, else generated and printed once)."
        ),
    ] = None,
    password: Annotated[
        str | None, typer.Option(envvar="PSTG_PASSWORD", help="The first admin's password.")
    ] = None,
) -> None:
    """Write an example station.yaml that maps every register of `pstg simulate`, with alarms;
    with --admin, also prepare its database and a first admin user."""
    from pstg.simulator.seed import SeedOptions, seed_config_text

    if output.is_dir():
        output = output / "station.yaml"
    if output.exists() and not force:
        fail(f"{output} exists; use --force to overwrite it", exit_code(Conflict))
    text = seed_config_text(SeedOptions(host=host, port=port, unit_id=unit, database_url=database))
    try:
        write_private(output, text)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    path = shlex.quote(str(output))
    stderr.print(f"wrote {output}", markup=False)
    if admin is not None:
        _first_admin(output, admin, password)
        run = f"pstg run -c {path}"
    else:
        # The database may not exist yet: --migrate creates its schema on the first start.
        run = f"pstg run -c {path} --migrate"
    simulate = "pstg simulate" + "".join(
        f" --{name} {value}"
        for name, value, default in (
            ("host", host, DEFAULT_HOST),
            ("port", port, DEFAULT_PORT),
            ("unit", unit, DEFAULT_UNIT),
        )
        if value != default
    )
    stderr.print(
        f"next: start the simulator with `{simulate}` (in another terminal), then the gateway "
        f"with `{run}`",
        markup=False,
    )


def _first_admin(config: Path, name: str, password: str | None) -> None:
    import secrets

    from pstg.audit import cli_actor
    from pstg.auth.admin import add_user
    from pstg.auth.roles import Role
    from pstg.auth.users import UserError
    from pstg.cli.config_option import load_or_fail
    from pstg.storage.database import create_engine, database_url, describe
    from pstg.storage.migrate import upgrade

    url = database_url(load_or_fail(config), config)
    engine = create_engine(url)
    generated = password is None
    chosen = password if password is not None else secrets.token_urlsafe(12)
    try:
        upgrade(engine)
        add_user(engine, cli_actor(), name, chosen, Role.ADMIN)
    except UserError as exc:
        fail(f"{describe(url)}: {exc}")
    finally:
        engine.dispose()
    stderr.print(f"{describe(url)}: schema ready; admin user {name!r} created", markup=False)
    if generated:
        stderr.print(
            f"password for {name}: {chosen}  (shown once; change it with "
            f"`pstg users passwd {shlex.quote(name)} -c {shlex.quote(str(config))}`)",
            markup=False,
        )
