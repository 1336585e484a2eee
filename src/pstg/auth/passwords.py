"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile), and
the rules a new password must pass.

Hashes carry their own parameters, so when the defaults move on, a successful login rehashes
the password with the new ones (`needs_rehash`).

Each hash or check takes 64 MiB and tens of milliseconds of CPU on purpose. At most
`MAX_PARALLEL_HASHES` run at once in the process, whoever asks (logins, new users, new
passwords); the others wait their turn. So a burst of logins costs time, not memory.
"""

from __future__ import annotations

import threading
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
"""Longer input is refused before hashing: nobody types more, and hashing megabytes costs."""
MAX_PARALLEL_HASHES = 2
"""How many argon2 computations may run at once (each holds 64 MiB while it runs)."""
MIN_NAME_IN_PASSWORD = 3
"""A user name this long or longer must not appear in the password (nor reversed)."""

_hasher = PasswordHasher()
_hashing = threading.BoundedSemaphore(MAX_PARALLEL_HASHES)


def check_password_rules(password: str, username: str | None = None) -> None:
    """ValueError saying what is wrong with a new password (of the user `username`).

    Refused: fewer than 8 or more than 1024 characters; one character repeated; the user's
    name in it (regardless of case, also backwards); one of the commonest passwords
    (regardless of case, also with digits and punctuation added at the end)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")
    if len(set(password)) == 1:
        raise ValueError("the password must not be one character repeated")
    folded = password.casefold()
    if username is not None and len(username) >= MIN_NAME_IN_PASSWORD:
        name = username.casefold()
        if name in folded or name[::-1] in folded:
            raise ValueError("the password must not contain the user name")
    if folded in common_passwords() or folded.rstrip(_TRAILING) in common_passwords():
        raise ValueError("this password is one of the most common ones: choose another")


_TRAILING = "0123456789!@#$%^&*()-_=+.,;:?'\"/\\|~` "


@cache
def common_passwords() -> frozenset[str]:
    """The embedded list of the commonest passwords (common_passwords.txt), lower case."""
    text = files("pstg.auth").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    lines = (line.strip().casefold() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def hash_password(password: str) -> str:
    """An argon2id hash string of `password` (with its salt and parameters)."""
    with _hashing:
        return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches; False also for an over-long password or a damaged hash."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        with _hashing:
            return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's defaults."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def dummy_hash() -> str:
    """A hash to verify against when a login names no user, so that answer takes as long as a
    wrong password does and the response time does not tell which names exist."""
    return hash_password("not the password of anyone")
