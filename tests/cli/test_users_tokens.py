"""`pstg users` and `pstg token` as people and scripts run them (real processes, real
databases), including the password prompt on a pseudo-terminal."""

import asyncio
import os
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from pstg.auth.passwords import verify_password
from pstg.auth.roles import Role
from pstg.auth.service import AuthError, AuthService
from pstg.auth.users import add_user, get_user, list_api_tokens
from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade
from tests.cli.conftest import Completed, pstg_executable, run_pstg

PASSWORD = "correct horse battery"
SECRET = "a-test-secret-that-is-long-enough-for-hs256"


def password_of(engine: Engine, name: str) -> str:
    import sqlalchemy as sa

    from pstg.auth.tables import users

    with engine.connect() as connection:
        return str(
            connection.execute(
                sa.select(users.c.password_hash).where(users.c.name == name)
            ).scalar_one()
        )


def rows_of(result: Completed) -> list[list[str]]:
    return [line.split() for line in result.stdout.splitlines()]


async def ok(*args: str) -> Completed:
    result = await run_pstg(*args)
    assert result.returncode == 0, result.stderr
    return result


async def refused(*args: str, code: int = 1) -> str:
    result = await run_pstg(*args)
    assert result.returncode == code, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


async def test_manage_users(engine: Engine, database_url: str) -> None:
    db = ("--database", database_url)
    added = await ok("users", "add", "root", "--role", "admin", "--password", PASSWORD, *db)
    assert "added user 'root' with role admin" in added.stderr
    assert added.stdout == ""
    assert verify_password(password_of(engine, "root"), PASSWORD)
    await ok("users", "add", "ann", "-r", "Viewer", "--password", PASSWORD, *db)

    listed = await ok("users", "list", *db)
    assert rows_of(listed) == [
        ["name", "role", "enabled", "last", "login", "failed", "logins"],
        ["ann", "viewer", "yes", "never", "0"],
        ["root", "admin", "yes", "never", "0"],
    ]

    changed = await ok("users", "role", "ann", "operator", *db)
    assert "user 'ann' is now operator" in changed.stderr
    assert get_user(engine, "ann").role is Role.OPERATOR
    assert "no longer work" in (await ok("users", "disable", "ann", *db)).stderr
    assert not get_user(engine, "ann").enabled
    listed = await ok("users", "list", *db)
    assert ["ann", "operator", "no", "never", "0"] in rows_of(listed)
    await ok("users", "enable", "ann", *db)
    assert get_user(engine, "ann").enabled
    await ok("users", "passwd", "ann", "--password", "a new password", *db)
    assert verify_password(password_of(engine, "ann"), "a new password")


async def test_user_mistakes_are_one_line(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'pstg.db'}"
    engine = create_engine(url)
    upgrade(engine)
    add_user(engine, "root", PASSWORD, Role.ADMIN)
    engine.dispose()
    db = ("--database", url)
    monkeypatch.delenv("PSTG_PASSWORD", raising=False)
    cases = {
        ("users", "add", "ann", "--role", "viewer"): (
            "no password for 'ann' and no terminal to ask on: "
            "use --password PASSWORD or set PSTG_PASSWORD"
        ),
        ("users", "add", "ann", "--role", "boss", "--password", PASSWORD): (
            "unknown role 'boss'; use one of viewer, operator, engineer, admin"
        ),
        ("users", "add", "a b", "--role", "viewer", "--password", PASSWORD): (
            "invalid user name 'a b'"
        ),
        ("users", "add", "ann", "--role", "viewer", "--password", "short"): (
            "the password must have at least 8 characters"
        ),
        ("users", "add", "ROOT", "--role", "viewer", "--password", PASSWORD): (
            "user 'root' already exists"
        ),
        ("users", "passwd", "nobody", "--password", PASSWORD): "no user 'nobody'",
        ("users", "passwd", "root"): "no password for 'root' and no terminal",
        ("users", "disable", "nobody"): "no user 'nobody'",
        ("users", "role", "root", "viewer"): "'root' is the last enabled admin",
        ("users", "disable", "root"): "'root' is the last enabled admin",
        ("token", "create", "nobody", "--name", "x"): "no user 'nobody'",
        ("token", "revoke", "42"): "no API token with id 42",
        ("token", "list", "--user", "nobody"): "no user 'nobody'",
    }
    results = await asyncio.gather(*(refused(*args, *db) for args in cases))
    for args, message, stderr in zip(cases, cases.values(), results, strict=True):
        assert message in stderr, (args, stderr)


async def test_the_password_can_come_from_the_environment(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'pstg.db'}"
    await ok("migrate", "--database", url)
    monkeypatch.setenv("PSTG_PASSWORD", PASSWORD)
    await ok("users", "add", "ann", "--role", "engineer", "--database", url)
    engine = create_engine(url)
    assert verify_password(password_of(engine, "ann"), PASSWORD)
    engine.dispose()


async def test_an_out_of_date_schema_is_refused(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'pstg.db'}"
    stderr = await refused("users", "list", "--database", url, code=10)
    assert f"no such database file (`pstg migrate --database {url}` creates one)" in stderr
    engine = create_engine(url)
    upgrade(engine, "0003")
    engine.dispose()
    stderr = await refused("users", "list", "--database", url, code=11)
    assert "is at schema revision 0003, this PSTG needs" in stderr
    assert f"run `pstg migrate --database {url}` first" in stderr
    stderr = await refused("token", "list", "--database", url, code=11)
    assert f"run `pstg migrate --database {url}` first" in stderr


async def test_the_database_of_a_config(tmp_path) -> None:
    config = tmp_path / "station.yaml"
    config.write_text("station: {id: ps-01}\nstorage: {url: 'sqlite:///data/pstg.db'}\n")
    await ok("migrate", "-c", str(config))
    await ok("users", "add", "ann", "--role", "viewer", "--password", PASSWORD, "-c", str(config))
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'pstg.db'}")
    assert get_user(engine, "ann").role is Role.VIEWER
    engine.dispose()


async def test_api_tokens(engine: Engine, database_url: str) -> None:
    db = ("--database", database_url)
    add_user(engine, "grafana", PASSWORD, Role.VIEWER)
    created = await ok("token", "create", "grafana", "--name", "dashboards", *db)
    token = created.stdout.strip()
    assert created.stdout == token + "\n"  # only the token: TOKEN=$(pstg token create ...)
    assert token.startswith("pstg_")
    [first] = list_api_tokens(engine, "grafana")
    assert first.expires_at is not None  # 90 days unless told otherwise (issue 10, item 22)
    assert abs(first.expires_at - first.created_at - timedelta(days=90)) < timedelta(seconds=5)
    assert (
        "API token 1 'dashboards' for user 'grafana': role viewer (the user's, following it if "
        f"it changes), expires {first.expires_at:%Y-%m-%d}"
    ) in created.stderr
    assert "cannot be shown again" in created.stderr
    auth = AuthService(engine, secret=SECRET)
    assert auth.authenticate(token).username == "grafana"

    expiring = await ok("token", "create", "grafana", "-n", "cron", "--expires-days", "7", *db)
    [_, cron] = list_api_tokens(engine, "grafana")
    assert cron.expires_at is not None
    assert abs(cron.expires_at - cron.created_at - timedelta(days=7)) < timedelta(seconds=5)
    assert f"expires {cron.expires_at:%Y-%m-%d}" in expiring.stderr

    listed = await ok("token", "list", *db)
    assert token not in listed.stdout
    rows = [line.split()[:5] for line in listed.stdout.splitlines()]
    assert rows == [
        ["id", "user", "name", "role", "status"],
        ["1", "grafana", "dashboards", "(user's)", "active"],
        ["2", "grafana", "cron", "(user's)", "active"],
    ]
    revoked = await ok("token", "revoke", "1", *db)
    assert "API token 1 'dashboards' of 'grafana' revoked" in revoked.stderr
    listed = await ok("token", "list", "-u", "grafana", *db)
    assert rows_of(listed)[1][:5] == ["1", "grafana", "dashboards", "(user's)", "revoked"]
    with pytest.raises(AuthError, match="revoked"):
        auth.authenticate(token)
    bad = await run_pstg("token", "create", "grafana", "--name", "x", "--expires-days", "0", *db)
    assert bad.returncode == 2  # a usage error, from the option's own range check


async def test_token_roles_and_expiry(engine: Engine, database_url: str) -> None:
    """Issue 10, item 22: `pstg token create alice --name grafana` minted a never-expiring
    token with alice's admin role, silently."""
    db = ("--database", database_url)
    add_user(engine, "alice", PASSWORD, Role.ADMIN)
    add_user(engine, "bob", PASSWORD, Role.OPERATOR)
    created = await ok(
        "token", "create", "alice", "--name", "grafana", "--role", "viewer",
        "--expires", "never", *db,
    )  # fmt: skip
    assert "API token 1 'grafana' for user 'alice': role viewer, never expires" in created.stderr
    auth = AuthService(engine, secret=SECRET)
    principal = auth.authenticate(created.stdout.strip())
    assert (principal.username, principal.role) == ("alice", Role.VIEWER)

    dated = await ok(
        "token", "create", "alice", "-n", "report", "--expires", "2099-01-01T00:00Z", *db
    )
    assert "role admin (the user's, following it if it changes), expires 2099-01-01" in (
        dated.stderr
    )
    short = await ok(
        "token", "create", "bob", "-n", "probe", "--expires", "12h", "-r", "operator", *db
    )
    assert "'bob': role operator, expires" in short.stderr

    assert "cannot have the role admin: 'bob' is operator" in await refused(
        "token", "create", "bob", "--name", "x", "--role", "admin", *db
    )
    assert "in the past" in await refused(
        "token", "create", "bob", "--name", "x", "--expires", "now-1h", *db, code=2
    )
    assert "--expires" in await refused(
        "token", "create", "bob", "--name", "x", "--expires", "soon", *db, code=2
    )
    assert len(list_api_tokens(engine)) == 3


async def read_until(stream: asyncio.StreamReader, text: bytes, seen: bytearray) -> None:
    while text not in seen:
        chunk = await asyncio.wait_for(stream.read(256), 20)
        assert chunk, f"ended before {text!r}: {bytes(seen)!r}"
        seen += chunk


async def test_add_asks_for_the_password_twice_on_a_terminal(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'pstg.db'}"
    await ok("migrate", "--database", url)
    monkeypatch.delenv("PSTG_PASSWORD", raising=False)
    terminal, child_side = os.openpty()
    try:
        process = await asyncio.create_subprocess_exec(
            pstg_executable(),
            "users",
            "add",
            "ann",
            "--role",
            "operator",
            "--database",
            url,
            stdin=child_side,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # no controlling terminal: getpass reads the pty on stdin
        )
        os.close(child_side)
        assert process.stderr is not None
        seen = bytearray()
        answers = [
            (b"Password for ann", b"short\n"),
            (b"at least 8 characters; try again", b""),
            (b"Password for ann", b"correct horse\n"),
            (b"Repeat the password", b"correct hoarse\n"),
            (b"the two passwords differ; try again", b""),
            (b"Password for ann", b"correct horse\n"),
            (b"Repeat the password", b"correct horse\n"),
        ]
        for prompt, answer in answers:
            await read_until(process.stderr, prompt, seen)
            del seen[: seen.index(prompt) + len(prompt)]
            if answer:
                await asyncio.sleep(0.2)  # getpass flushes typed-ahead input when it starts
                os.write(terminal, answer)
        out, err = await asyncio.wait_for(process.communicate(), 20)
    finally:
        os.close(terminal)
    assert process.returncode == 0, bytes(seen) + err
    assert b"added user 'ann' with role operator" in bytes(seen) + err
    assert out == b""
    engine = create_engine(url)
    assert verify_password(password_of(engine, "ann"), "correct horse")
    engine.dispose()
