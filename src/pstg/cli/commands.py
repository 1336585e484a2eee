"""Imports every command module so that each registers itself on the Typer app."""

from pstg.cli import (  # noqa: F401
    audit,
    check_config,
    demo,
    export,
    health,
    import_,
    migrate,
    poll,
    run,
    seed,
    simulate,
    tokens,
    users,
)
