"""The JWT key: from PSTG_JWT_SECRET, or made once and shared through the database."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.auth.secret import SECRET_ENV, load_or_create_secret
from pstg.auth.tables import settings
from pstg.storage.database import create_engine


@pytest.fixture(autouse=True)
def no_secret_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)


def test_made_once_then_read_back(engine: Engine, database_url: str) -> None:
    secret = load_or_create_secret(engine)
    assert len(secret) >= 64
    assert load_or_create_secret(engine) == secret
    other_process = create_engine(database_url)
    try:
        assert load_or_create_secret(other_process) == secret
    finally:
        other_process.dispose()
    with engine.connect() as connection:
        assert connection.execute(sa.select(settings.c.value)).scalars().all() == [secret]


def test_concurrent_first_uses_agree(engine: Engine, database_url: str) -> None:
    engines = [create_engine(database_url) for _ in range(6)]
    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            secrets = set(pool.map(load_or_create_secret, engines))
    finally:
        for each in engines:
            each.dispose()
    assert len(secrets) == 1
    assert secrets == {load_or_create_secret(engine)}


def test_the_environment_wins_and_is_not_stored(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "s" * 32)
    assert load_or_create_secret(engine) == "s" * 32
    with engine.connect() as connection:
        assert connection.execute(sa.select(settings)).all() == []


def test_a_short_secret_in_the_environment_is_refused(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "hunter2")
    with pytest.raises(ValueError, match="PSTG_JWT_SECRET: the JWT secret must be at least 32"):
        load_or_create_secret(engine)
