"""The logins `pstg login` keeps: one access token per API URL, in a file only its owner reads.

The file is `credentials.json` in $PSTG_HOME, else in ~/.config/pstg. It is written whole to a
new file that `mkstemp` creates with mode 0600 and then renamed over the old one, so it is
never readable by others, not even for an instant, and never half written.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pstg.errors import Invalid

HOME_ENV = "PSTG_HOME"
FILE_NAME = "credentials.json"
_FORMAT = 1


@dataclass(frozen=True)
class Login:
    """An access token of one API, as the login answered it."""

    url: str
    username: str
    access_token: str
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def credentials_path() -> Path:
    home = os.environ.get(HOME_ENV)
    folder = Path(home) if home else Path.home() / ".config" / "pstg"
    return folder / FILE_NAME


def normal_url(url: str) -> str:
    """The key of a URL: `HTTP://Host:8000/` and `http://host:8000` are one service."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        return url.strip().rstrip("/")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}".rstrip("/")


def find_login(url: str) -> Login | None:
    """The stored login for `url`, expired or not; None when there is none."""
    entry = _read().get(normal_url(url))
    if entry is None:
        return None
    try:
        return Login(
            url=normal_url(url),
            username=str(entry["username"]),
            access_token=str(entry["access_token"]),
            expires_at=datetime.fromisoformat(str(entry["expires_at"])).astimezone(UTC),
        )
    except (KeyError, TypeError, ValueError):
        return None  # a damaged entry is as good as none: log in again


def save_login(login: Login) -> Path:
    """Store `login` in place of any earlier one for its URL; returns the file."""
    logins = _read()
    logins[login.url] = {
        "username": login.username,
        "access_token": login.access_token,
        "expires_at": login.expires_at.astimezone(UTC).isoformat(),
    }
    return _write(logins)


def forget_login(url: str) -> Login | None:
    """Remove the login for `url`; returns it, or None when there was none."""
    found = find_login(url)
    logins = _read()
    if logins.pop(normal_url(url), None) is None:
        return found
    if logins:
        _write(logins)
    else:
        credentials_path().unlink(missing_ok=True)
    return found


def _read() -> dict[str, dict[str, object]]:
    path = credentials_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise Invalid(f"cannot read {path}: {exc.strerror}") from exc
    try:
        document = json.loads(text)
        logins = document["logins"]
        if not isinstance(logins, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        problem = f"{path} is not a PSTG credentials file: delete it and log in again"
        raise Invalid(problem) from None
    return {str(url): entry for url, entry in logins.items() if isinstance(entry, dict)}


def _write(logins: dict[str, dict[str, object]]) -> Path:
    path = credentials_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkstemp opens with O_EXCL and mode 0600: the token is never in a file others may read.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".credentials.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump({"format": _FORMAT, "logins": logins}, file, indent=2, sort_keys=True)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def readable_by_others(path: Path) -> bool:
    """Whether the group or others may read `path` (someone chmod-ed it, or copied it)."""
    try:
        return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except OSError:
        return False
