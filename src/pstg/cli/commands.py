"""Imports every command module so that each registers itself on the Typer app."""

from pstg.cli import check_config, export, import_, migrate, poll, run, seed, simulate  # noqa: F401
