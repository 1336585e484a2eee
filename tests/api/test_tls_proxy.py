"""The reverse-proxy example of docs/security.md works: examples/nginx/pstg.conf, as shipped
(only ports and certificate paths replaced), in front of the API over real TLS.

Needs nginx (`.ci/run` installs Debian's nginx-light); skipped without it, except in CI.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from pstg.service.api_socket import listen
from pstg.service.http_server import ApiServer
from tests.api.conftest import PASSWORD, Api
from tests.poller.conftest import free_port

EXAMPLE = Path(__file__).parents[2] / "examples" / "nginx" / "pstg.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(
        NGINX is None and os.environ.get("CI") != "true", reason="nginx is not installed"
    ),
]


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


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


async def test_the_nginx_example_terminates_tls_in_front_of_the_api(
    api: Api, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    sock = listen("127.0.0.1", 0, where="test")
    api_port = sock.getsockname()[1]
    server = ApiServer(api.app, sock)
    http_port, https_port = free_port(), free_port()
    await server.start()
    try:
        site = site_config(api_port, http_port, https_port, cert, key)
        async with nginx(tmp_path, site, https_port):
            # Plain HTTP only redirects to HTTPS; nothing is served in clear.
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as plain:
                redirect = await plain.get("/api/v1/health")
            assert redirect.status_code == 301
            assert redirect.headers["location"].startswith("https://127.0.0.1")

            trusted = ssl.create_default_context(cafile=str(cert))
            async with httpx.AsyncClient(
                base_url=f"https://127.0.0.1:{https_port}", verify=trusted, timeout=10
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
                tags = await client.get(
                    "/api/v1/tags", headers={"Authorization": f"Bearer {token}"}
                )
                assert tags.status_code == 200
    finally:
        await server.stop()
