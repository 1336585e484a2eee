"""The two kinds of bearer token, as pure functions (no database, no clock of their own).

- Access tokens: JWTs (HS256) that the password login issues, short-lived. Claims: `sub` (user
  name), `uid` (user id), `key` (the user's token key at issue time: random per user, new with
  each new password, so a password change or a user created anew under an old id or name
  ends the old tokens), `role` (at issue time; the service re-reads the current one), `iat`,
  `exp` (NumericDate seconds) and `jti` (a random id).
- API tokens: `pstg_` + 43 random URL-safe characters (256 bits), for machines. The database
  keeps only their SHA-256, so a stolen database does not hand out working tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from pstg.auth.roles import Role

ALGORITHM = "HS256"
API_TOKEN_PREFIX = "pstg_"
_CLAIMS = ("sub", "uid", "key", "role", "iat", "exp", "jti")


class InvalidToken(ValueError):
    """A bearer token that is not one PSTG issued (bad signature, bad shape)."""


@dataclass(frozen=True)
class AccessClaims:
    username: str
    user_id: int
    token_key: str
    role: Role
    issued_at: datetime
    expires_at: datetime
    token_id: str


def encode_access_token(
    *,
    secret: str,
    username: str,
    user_id: int,
    token_key: str,
    role: Role,
    issued_at: datetime,
    lifetime: timedelta,
) -> str:
    """A signed JWT for the user, valid from `issued_at` for `lifetime` (whole seconds)."""
    issued = int(issued_at.timestamp())
    claims = {
        "sub": username,
        "uid": user_id,
        "key": token_key,
        "role": role.label,
        "iat": issued,
        "exp": issued + int(lifetime.total_seconds()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, *, secret: str) -> AccessClaims:
    """The claims of a token signed with `secret`; InvalidToken otherwise.

    Expiry is NOT checked here: the caller compares `expires_at` with its own clock (the
    service's clock is injectable, PyJWT's is not).
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={
                "require": list(_CLAIMS),
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(f"not a valid access token: {exc}") from None
    sub, uid, key, role, iat, exp, jti = (claims[name] for name in _CLAIMS)
    if not (
        isinstance(sub, str)
        and _is_int(uid)
        and isinstance(key, str)
        and isinstance(role, str)
        and _is_int(iat)
        and _is_int(exp)
        and isinstance(jti, str)
    ):
        raise InvalidToken("not a valid access token: a claim has the wrong type")
    try:
        parsed_role = Role.parse(role)
        issued_at = datetime.fromtimestamp(iat, UTC)
        expires_at = datetime.fromtimestamp(exp, UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise InvalidToken(f"not a valid access token: {exc}") from None
    return AccessClaims(sub, uid, key, parsed_role, issued_at, expires_at, jti)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def new_token_key() -> str:
    """A user's token key: 128 random bits as 32 hex digits."""
    return secrets.token_hex(16)


def new_api_token() -> tuple[str, str]:
    """A fresh API token and its hash: (plaintext, sha256 hex)."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_api_token(token)


def hash_api_token(token: str) -> str:
    """The SHA-256 hex digest under which an API token is stored and looked up.

    A plain hash (no salt, no stretching) is right here: the token is 256 random bits, so
    there is nothing to guess, and the lookup by hash must be one index probe per request.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def is_api_token(bearer: str) -> bool:
    return bearer.startswith(API_TOKEN_PREFIX)
