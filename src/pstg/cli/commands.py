"""Imports every command module so that each registers itself on the Typer app."""

from pstg.cli import (  # noqa: F401
    audit,
    check_config,
    control,
    demo,
    export,
    health,
    import_,
    login,
    migrate,
    notify,
    poll,
    run,
    seed,
    simulate,
    tokens,
    users,
)
