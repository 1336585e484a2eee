"""`pstg login`, `pstg logout` and the token of the commands that call the API, against a real
API on 127.0.0.1 (uvicorn in the test's event loop, users of every role on SQLite)."""

from __future__ import annotations

import asyncio
import json
import socket
import stat
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from pstg.api.app import create_app
from pstg.cli.control import parse_value
from pstg.cli.credentials import Login, credentials_path, save_login
from pstg.cli.errors import EXIT_CODES
from pstg.errors import Conflict, Invalid, Unauthenticated, Unavailable
from pstg.model import utc_now
from pstg.storage.database import create_engine
from pstg.storage.migrate import upgrade
from tests.api.conftest import PASSWORD, add_users, fast_password_hashing, make_context
from tests.cli.conftest import Completed, run_pstg
from tests.poller.conftest import free_port

__all__ = ["fast_password_hashing"]  # autouse: cheap argon2 for the users the service checks


@pytest.fixture(autouse=True)
def pstg_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Credentials in the test's folder, and no token or URL from the tester's shell."""
    home = tmp_path / "home" / "pstg"
    monkeypatch.setenv("PSTG_HOME", str(home))
    monkeypatch.delenv("PSTG_TOKEN", raising=False)
    monkeypatch.delenv("PSTG_URL", raising=False)
    return home


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[str]:
    """The API of station ps-01 served by uvicorn on a free port; yields its URL."""
    engine = create_engine(f"sqlite:///{tmp_path / 'service.db'}")
    upgrade(engine)
    app_ = create_app(make_context(engine))
    add_users(engine)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(app_, log_level="warning", lifespan="off", access_log=False)
    )
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        assert not serving.done(), "uvicorn ended before it started"
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    server.should_exit = True
    await serving
    listener.close()
    engine.dispose()


async def pstg(*args: str, stdin: str | None = None) -> Completed:
    # The real console script, not CliRunner in a thread: yaml-rs, which reads the station
    # file, crashed the test process with SIGSEGV there about one run in three.
    return await run_pstg(*args, stdin=stdin)


def config_for(tmp_path: Path, url: str, station_id: str = "ps-01") -> Path:
    path = tmp_path / f"{station_id}.yaml"
    path.write_text(
        f"station: {{id: {station_id}}}\n"
        f"api: {{host: 127.0.0.1, port: {url.rpartition(':')[2]}}}\n"
        "devices:\n"
        "  - {id: plc1, host: 127.0.0.1, port: 15020,\n"
        "     tags: [{name: t, source: coil, address: 0}]}\n"
    )
    return path


async def test_login_keeps_the_token_in_a_file_only_the_user_reads(service, pstg_home) -> None:
    result = await pstg("login", "--url", service, "-u", "operator", "--password-stdin",
                        stdin=PASSWORD + "\n")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"logged in to {service} as 'operator' (role operator)" in result.stderr

    path = credentials_path()
    assert path.parent == pstg_home
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(pstg_home.stat().st_mode) == 0o700
    entry = json.loads(path.read_text())["logins"][service]
    assert entry["username"] == "operator"

    async with httpx.AsyncClient(base_url=service) as client:
        me = await client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {entry['access_token']}"}
        )
    assert me.json()["username"] == "operator"


async def test_a_second_login_to_another_url_keeps_the_first(service, tmp_path) -> None:
    other = "http://127.0.0.1:1"
    save_login(Login(other, "alice", "elsewhere", utc_now() + timedelta(minutes=5)))
    result = await pstg("login", "--url", service + "/", "-u", "viewer", "--password-stdin",
                        stdin=PASSWORD + "\n")  # fmt: skip
    assert result.returncode == 0, result.stderr
    logins = json.loads(credentials_path().read_text())["logins"]
    assert sorted(logins) == sorted([other, service])
    assert stat.S_IMODE(credentials_path().stat().st_mode) == 0o600


async def test_a_wrong_password_fails_in_one_line_and_stores_nothing(service) -> None:
    result = await pstg("login", "--url", service, "-u", "operator", "--password-stdin",
                        stdin="not the password\n")  # fmt: skip
    assert result.returncode == EXIT_CODES[Unauthenticated] == 13
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert not credentials_path().exists()


async def test_login_without_a_terminal_asks_for_password_stdin(service) -> None:
    result = await pstg("login", "--url", service, "-u", "operator")
    assert result.returncode == EXIT_CODES[Invalid]
    assert "--password-stdin" in result.stderr


async def test_logout_forgets_the_login_and_commands_say_to_log_in(service) -> None:
    login = await pstg("login", "--url", service, "-u", "operator", "--password-stdin",
                       stdin=PASSWORD + "\n")  # fmt: skip
    assert login.returncode == 0, login.stderr
    logout = await pstg("logout", "--url", service)
    assert logout.returncode == 0
    assert f"logged out of {service} ('operator')" in logout.stderr
    assert not credentials_path().exists()

    result = await pstg("command", "--list", "--url", service)
    assert result.returncode == EXIT_CODES[Unauthenticated]
    assert result.stderr.strip() == (
        f"error: not logged in to {service}: run `pstg login --url {service}`"
    )


async def test_no_login_names_the_login_of_the_config(service, tmp_path) -> None:
    config = config_for(tmp_path, service)
    result = await pstg("command", "sp", "12.5", "--yes", "-c", str(config))
    assert result.returncode == EXIT_CODES[Unauthenticated]
    assert f"run `pstg login -c {config}`" in result.stderr


async def test_an_expired_login_says_to_log_in_again(service) -> None:
    save_login(Login(service, "operator", "stale", utc_now() - timedelta(seconds=1)))
    result = await pstg("command", "sp", "12.5", "--yes", "--url", service)
    assert result.returncode == EXIT_CODES[Unauthenticated]
    assert f"the login of 'operator' to {service} has expired: run `pstg login" in result.stderr


async def test_pstg_token_goes_before_the_stored_login(service, monkeypatch) -> None:
    login = await pstg("login", "--url", service, "-u", "operator", "--password-stdin",
                       stdin=PASSWORD + "\n")  # fmt: skip
    assert login.returncode == 0, login.stderr
    monkeypatch.setenv("PSTG_TOKEN", "not-a-token")
    result = await pstg("command", "--list", "--url", service)
    assert result.returncode == EXIT_CODES[Unauthenticated]
    assert "the token in $PSTG_TOKEN was refused" in result.stderr


async def test_pstg_url_names_the_service(service, monkeypatch) -> None:
    monkeypatch.setenv("PSTG_URL", service)
    result = await pstg("login", "-u", "viewer", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert service in json.loads(credentials_path().read_text())["logins"]


async def test_another_stations_service_gets_no_command(service, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PSTG_TOKEN", "any")
    config = config_for(tmp_path, service, station_id="ps-02")
    result = await pstg("command", "sp", "12.5", "--yes", "-c", str(config))
    assert result.returncode == EXIT_CODES[Conflict]
    assert f"runs station 'ps-01', not 'ps-02' of {config}: nothing sent" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("login", "-u", "operator", "--password-stdin"),
        ("command", "sp", "12.5", "--yes"),
        ("command", "--list"),
    ],
    ids=["login", "command", "list"],
)
async def test_a_service_not_running_is_one_line(args, monkeypatch) -> None:
    monkeypatch.setenv("PSTG_TOKEN", "any")
    url = f"http://127.0.0.1:{free_port()}"
    result = await pstg(*args, "--url", url, stdin=PASSWORD + "\n")
    assert result.returncode == EXIT_CODES[Unavailable]
    assert result.stderr == (
        f"error: the PSTG service at {url} is not answering (is `pstg run` running?)\n"
    )


async def test_both_config_and_url_is_refused(tmp_path) -> None:
    config = config_for(tmp_path, "http://127.0.0.1:8000")
    result = await pstg("login", "-c", str(config), "--url", "http://127.0.0.1:8000")
    assert result.returncode == EXIT_CODES[Invalid]
    assert "not both" in result.stderr


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("12.5", 12.5),
        ("-1.5", -1.5),
        ("3", 3),
        ("-3", -3),
        ("1e3", 1000.0),
        ("true", True),
        ("False", False),
        ("Auto", "Auto"),
        ("nan", "nan"),
        ("12,5", "12,5"),
    ],
)
def test_a_value_is_sent_as_json_types_it(text, sent) -> None:
    value = parse_value(text)
    assert (value, type(value)) == (sent, type(sent))
