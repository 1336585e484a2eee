"""`pstg` command line. Each command lives in its own module and registers itself on `app`."""

from pstg.cli import commands as _commands  # noqa: F401  (registers the commands)
from pstg.cli.app import app

__all__ = ["app"]
