"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile).

Hashes carry their own parameters, so when the defaults move on, a successful login rehashes
the password with the new ones (`needs_rehash`).
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
"""Longer input is refused before hashing: nobody types more, and hashing megabytes costs."""

_hasher = PasswordHasher()


def check_password_rules(password: str) -> None:
    """ValueError saying what is wrong with a new password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    """An argon2id hash string of `password` (with its salt and parameters)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches; False also for an over-long password or a damaged hash."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
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
