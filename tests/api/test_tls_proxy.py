"""The reverse-proxy example of docs/security.md works: examples/nginx/pstg.conf, as shipped
(only ports and certificate paths replaced), in front of the API over real TLS, with the API
set up as the example's comment says (`trusted_proxies`, `allowed_hosts`). What docs/security.md
claims of it holds: plain HTTP only redirects, TLS 1.2 and 1.3 only, HSTS, no server banner,
and an `X-Forwarded-For` sent by the client replaced, so the audit log records where the
request really came from.

Needs nginx (`.ci/run` installs Debian's nginx-light); skipped without it, except in CI.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import ssl
import threading
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from ruamel.yaml import YAML

from pstg import audit
from pstg.api.app import create_app
from pstg.config.models import ApiConfig
from pstg.service.api_socket import listen
from pstg.service.http_server import ApiServer
from tests.api.conftest import PASSWORD, STATION, Api, make_context
from tests.poller.conftest import free_port
from tests.support.tls import self_signed

EXAMPLE = Path(__file__).parents[2] / "examples" / "nginx" / "pstg.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(
        NGINX is None and os.environ.get("CI") != "true", reason="nginx is not installed"
    ),
]


def site_config(api_port: int, http_port: int, https_port: int, cert: Path, key: Path) -> str:
    """The example with this test's ports and certificate; nothing else changed."""
    text = EXAMPLE.read_text()
    for old, new in (
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{api_port};"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        ("/etc/ssl/pstg/fullchain.pem", str(cert)),
        ("/etc/ssl/pstg/privkey.pem", str(key)),
    ):
        assert old in text, f"examples/nginx/pstg.conf no longer has {old!r}"
        text = text.replace(old, new)
    return text


@asynccontextmanager
async def nginx(folder: Path, site: str, https_port: int) -> AsyncIterator[None]:
    assert NGINX is not None, "CI must install nginx (.ci/run)"
    (folder / "site.conf").write_text(site)
    temp = folder / "nginx-temp"
    temp.mkdir()
    paths = " ".join(
        f"{kind}_temp_path {temp / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # Workers run as root only where the test does (its temp folders are the test's own).
    user = "user root;\n" if os.getuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\nevents {{}}\n"
        f"http {{ access_log off; {paths} include {folder / 'site.conf'}; }}\n"
    )
    process = await asyncio.create_subprocess_exec(
        NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log"),
        "-g", "daemon off;", stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(200):
            assert process.returncode is None, (folder / "error.log").read_text()
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", https_port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            break
        yield
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


def api_settings_of_the_example() -> ApiConfig:
    """The `api:` block the example's comment tells the user to put in station.yaml."""
    lines = EXAMPLE.read_text().splitlines()
    start = lines.index("#     api:")
    block = ["api:"]
    for line in lines[start + 1 :]:
        if not line.startswith("#       "):
            break
        block.append(line.removeprefix("#     "))
    settings = YAML(typ="safe").load("\n".join(block))["api"]
    assert settings["trusted_proxies"] == ["127.0.0.1"], settings
    return ApiConfig.model_validate(settings)


@dataclass
class Proxy:
    """The API behind nginx with the example config."""

    api_url: str
    """The API itself, plain HTTP: what only nginx should reach."""
    http_port: int
    https_port: int
    cert: Path
    key: Path

    def trusting(self, **options: object) -> ssl.SSLContext:
        """A client context that trusts the test's certificate; `options` are set on it."""
        context = ssl.create_default_context(cafile=str(self.cert))
        with warnings.catch_warnings():  # TLSv1 and TLSv1_1 are deprecated: that is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            for name, value in options.items():
                setattr(context, name, value)
        return context


@pytest.fixture
async def proxy(api: Api, tmp_path: Path) -> AsyncIterator[Proxy]:
    cert, key = self_signed(tmp_path)
    config = STATION.model_copy(update={"api": api_settings_of_the_example()})
    sock = listen("127.0.0.1", 0, where="test")
    api_port = sock.getsockname()[1]
    server = ApiServer(create_app(make_context(api.engine, config=config)), sock)
    http_port, https_port = free_port(), free_port()
    await server.start()
    try:
        site = site_config(api_port, http_port, https_port, cert, key)
        async with nginx(tmp_path, site, https_port):
            yield Proxy(f"http://127.0.0.1:{api_port}", http_port, https_port, cert, key)
    finally:
        await server.stop()


async def handshake(port: int, context: ssl.SSLContext) -> str:
    """A TLS handshake with 127.0.0.1:port; the protocol version agreed (ssl.SSLError if
    none is)."""
    _, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="127.0.0.1"), 10
    )
    try:
        version = writer.get_extra_info("ssl_object").version()
        assert isinstance(version, str)
        return version
    finally:
        writer.close()


async def test_the_nginx_example_terminates_tls_in_front_of_the_api(proxy: Proxy) -> None:
    # Plain HTTP only redirects to HTTPS; nothing is served in clear.
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{proxy.http_port}") as plain:
        redirect = await plain.get("/api/v1/health")
    assert redirect.status_code == 301
    assert redirect.headers["location"].startswith("https://127.0.0.1")

    async with httpx.AsyncClient(
        base_url=f"https://127.0.0.1:{proxy.https_port}", verify=proxy.trusting(), timeout=10
    ) as client:
        health = await client.get("/api/v1/health")
        assert health.status_code == 200, health.text
        assert health.json()["database"]["ok"] is True
        assert "max-age=" in health.headers["strict-transport-security"]
        assert "uvicorn" not in health.headers.get("server", "")
        assert not re.search(r"\d", health.headers.get("server", ""))  # no version

        login = await client.post(
            "/api/v1/auth/token", data={"username": "viewer", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        tags = await client.get("/api/v1/tags", headers={"Authorization": f"Bearer {token}"})
        assert tags.status_code == 200


async def test_the_nginx_example_speaks_tls_1_2_and_1_3(proxy: Proxy) -> None:
    for version, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
        only = proxy.trusting(minimum_version=version, maximum_version=version)
        assert await handshake(proxy.https_port, only) == name


def old_version_client(proxy: Proxy, member: str) -> ssl.SSLContext:
    """A client offering only an old version. OpenSSL 3 refuses TLS 1.0 and 1.1 at security
    level 1 and up, on the client's side too: level 0 lets it offer them at all."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        version = getattr(ssl.TLSVersion, member)
    context = proxy.trusting(minimum_version=version, maximum_version=version)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def willing_server(cert: Path, key: Path) -> tuple[int, threading.Thread]:
    """A one-connection TLS server that accepts TLS 1.0 to 1.3, in a thread; its port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with listener:
            listener.settimeout(10)
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                return
            with connection, suppress(OSError):
                context.wrap_socket(connection, server_side=True).close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


@pytest.mark.parametrize(
    ("member", "name"), [("TLSv1", "TLSv1"), ("TLSv1_1", "TLSv1.1")], ids=["1.0", "1.1"]
)
async def test_the_nginx_example_refuses_tls_1_0_and_1_1(
    proxy: Proxy, member: str, name: str
) -> None:
    # First, that this machine's OpenSSL can speak the old version at all, to a server that
    # accepts it: otherwise the refusal below would prove nothing about nginx. Where it
    # cannot (an OpenSSL built without it), only the test above says anything: it is skipped,
    # saying so.
    port, thread = willing_server(proxy.cert, proxy.key)
    try:
        agreed = await handshake(port, old_version_client(proxy, member))
    except ssl.SSLError as exc:
        pytest.skip(f"this OpenSSL ({ssl.OPENSSL_VERSION}) cannot offer {name}: {exc}")
    finally:
        await asyncio.to_thread(thread.join, 15)
    assert agreed == name

    with pytest.raises(ssl.SSLError) as refused:
        await handshake(proxy.https_port, old_version_client(proxy, member))
    # Refused for its version (a protocol_version alert): the example's ssl_protocols line.
    # With the old versions allowed there, nginx's OpenSSL still fails the handshake at its
    # default security level, but with an internal_error alert.
    assert "PROTOCOL_VERSION" in str(refused.value).upper(), refused.value


FORGED = "127.0.0.77"
"""A loopback address no client here uses, only ever written into a header (the project's
tests name no address outside 127.0.0.0/8)."""


def last_login_source(api: Api) -> str:
    return audit.list_entries(api.engine, action="login", limit=10_000)[-1].source


async def test_the_nginx_example_replaces_a_client_sent_forwarded_for(
    proxy: Proxy, api: Api
) -> None:
    form = {"username": "viewer", "password": PASSWORD}
    forged = {"X-Forwarded-For": FORGED}
    # The API trusts 127.0.0.1 as its proxy (as the example says to set it up): a forged
    # header sent to it straight from this machine is believed. Only nginx stands between a
    # client and the audit log's source.
    async with httpx.AsyncClient(base_url=proxy.api_url, timeout=10) as direct:
        straight = await direct.post("/api/v1/auth/token", data=form, headers=forged)
    assert straight.status_code == 200, straight.text
    assert last_login_source(api) == FORGED

    async with httpx.AsyncClient(
        base_url=f"https://127.0.0.1:{proxy.https_port}", verify=proxy.trusting(), timeout=10
    ) as client:
        login = await client.post("/api/v1/auth/token", data=form, headers=forged)
    assert login.status_code == 200, login.text
    # nginx replaced the header with the address the client connected from.
    assert last_login_source(api) == "127.0.0.1"
