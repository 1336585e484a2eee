"""The key that signs access tokens (JWT, HS256).

Every process serving one database must use the same key, or a token issued by one would be
refused by another. So unless PSTG_JWT_SECRET is set, the key is made once, at random, and
kept in the database's `settings` table, where every process finds it. Anyone who can read
that table can mint tokens: protect the database as you protect the key.
"""

from __future__ import annotations

import os
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.auth.tables import settings

SECRET_ENV = "PSTG_JWT_SECRET"
SECRET_KEY = "jwt_secret"
"""The `settings` row holding the generated key."""
MIN_SECRET_BYTES = 32
"""RFC 7518 section 3.2: an HS256 key must be at least as long as the hash (256 bits)."""


def check_secret(secret: str) -> None:
    """ValueError unless `secret` is long enough to sign tokens safely."""
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ValueError(
            f"the JWT secret must be at least {MIN_SECRET_BYTES} bytes long "
            f"(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )


def load_or_create_secret(engine: Engine) -> str:
    """$PSTG_JWT_SECRET when set, else the database's key, created on first use."""
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        try:
            check_secret(from_env)
        except ValueError as exc:
            raise ValueError(f"{SECRET_ENV}: {exc}") from None
        return from_env
    select = sa.select(settings.c.value).where(settings.c.key == SECRET_KEY)
    with engine.connect() as connection:
        stored = connection.execute(select).scalar_one_or_none()
    if stored is not None:
        return str(stored)
    try:
        with engine.begin() as connection:
            connection.execute(
                settings.insert().values(key=SECRET_KEY, value=secrets.token_urlsafe(48))
            )
    except sa.exc.IntegrityError:
        pass  # another process made it first: use theirs
    with engine.connect() as connection:
        return str(connection.execute(select).scalar_one())
