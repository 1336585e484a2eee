"""Files that hold secrets are private: created 0600, and a warning when one is not.

The database holds the JWT signing secret and password hashes, the spool holds readings, the
station config may hold a database password: anyone who can read them can mint an admin
token or read the station. PSTG creates them readable by their owner only, and says so at
start when an existing one is readable by others.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("pstg.files")

PRIVATE = 0o600


def create_private(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (then it is left as it is)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except FileExistsError:
        return
    os.close(fd)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, which ends up mode 0600 whether it existed or not."""
    create_private(path)
    os.chmod(path, PRIVATE)
    path.write_text(text, encoding="utf-8")


def readable_by_others(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRGRP | stat.S_IROTH))


def warn_if_readable(path: Path, what: str) -> bool:
    """Log a warning when `path` is readable by its group or others; True when it is."""
    if not readable_by_others(path):
        return False
    mode = stat.S_IMODE(path.stat().st_mode)
    log.warning(
        "%s %s is readable by others (mode %03o): it holds secrets; chmod 600 %s",
        what,
        path,
        mode,
        path,
    )
    return True
