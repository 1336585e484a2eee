"""Imports every command module so that each registers itself on the Typer app."""

from pstg.cli import check_config, poll, run, seed, simulate  # noqa: F401
