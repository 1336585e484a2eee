"""Talking to a running service's API from the command line: which service (`-c FILE`,
`--url URL`, $PSTG_URL), which token ($PSTG_TOKEN, else the stored `pstg login`), and its
answers mapped to the domain errors (`pstg.errors`), so every failure is one line with the exit
status of `pstg.cli.errors`' table.

    401 Unauthenticated (with the `pstg login` to run)   404 NotFound
    403 Forbidden                                        409 Conflict
    400, 422 Invalid                                     429, 503, no answer: Unavailable
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pstg.cli.app import fail, stderr
from pstg.cli.errors import exit_code
from pstg.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PstgError,
    Unauthenticated,
    Unavailable,
)

if TYPE_CHECKING:
    import httpx

URL_ENV = "PSTG_URL"
TOKEN_ENV = "PSTG_TOKEN"
DEFAULT_CONFIG = Path("station.yaml")
LOGIN_PATH = "/api/v1/auth/token"
CONNECT_TIMEOUT = 5.0
DEFAULT_TIMEOUT = 30.0

ServiceConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        metavar="FILE",
        help="Station config whose api.host and api.port name the service (default: "
        f"station.yaml, unless --url or ${URL_ENV}).",
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        metavar="URL",
        envvar=URL_ENV,
        show_envvar=True,
        help="Base URL of the running service, e.g. http://127.0.0.1:8000.",
    ),
]

_ERRORS: dict[int, type[PstgError]] = {
    400: Invalid,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Invalid,
    429: Unavailable,
    503: Unavailable,
}


class ServiceError(PstgError):
    """An error answer of the API that has no class of its own (a 500)."""


def refusal(status: int, detail: str, rule: str | None = None) -> PstgError:
    """The domain error for an error answer of the API: the class its status stands for,
    the API's detail as the message, the rule that refused (if named) in front."""
    kind = _ERRORS.get(status, ServiceError)
    message = detail if rule is None else f"refused ({rule}): {detail}"
    if kind is ServiceError:
        message = f"the service answered {status}: {detail}"
    return kind(message)


@dataclass(frozen=True)
class Service:
    """The service the options chose, and how to choose it again in a hint."""

    url: str
    options: str
    """`-c FILE` or `--url URL`, shell-quoted; empty when $PSTG_URL or ./station.yaml chose."""
    station_id: str | None
    """The station of the config that named the service; None for a bare URL."""
    config: Path | None

    def command(self, words: str) -> str:
        """`pstg WORDS` with the options that choose this service."""
        return f"pstg {words} {self.options}".rstrip()


def choose_service(config: Path | None, url: str | None) -> Service:
    """The service chosen by `--url` (or $PSTG_URL) or by `-c FILE` (else ./station.yaml);
    a one-line failure when none or both are given."""
    from pstg.cli.config_option import load_or_fail
    from pstg.cli.credentials import normal_url

    usage = exit_code(Invalid)
    from_env = os.environ.get(URL_ENV)
    given_url = url if url is not None and url != from_env else None
    if config is not None and given_url is not None:
        fail("give -c FILE or --url URL, not both", usage)
    if config is None and url is not None:
        if "://" not in url:
            fail(f"--url {url!r}: give a URL such as http://127.0.0.1:8000", usage)
        options = "" if given_url is None else f"--url {shlex.quote(normal_url(url))}"
        return Service(normal_url(url), options, None, None)
    path = config or DEFAULT_CONFIG
    if config is None and not path.exists():
        fail(
            f"no service given and no {DEFAULT_CONFIG} here: use -c FILE, --url URL or "
            f"set {URL_ENV}",
            usage,
        )
    station = load_or_fail(path)
    base = f"http://{station.api.host}:{station.api.port}"  # as Gateway.url
    options = "" if config is None else f"-c {shlex.quote(str(path))}"
    return Service(normal_url(base), options, station.station.id, path)


@dataclass(frozen=True)
class Token:
    value: str
    source: str
    """Where it came from, for the message when the API refuses it."""


def token_for(service: Service) -> Token:
    """$PSTG_TOKEN, else the stored login for the service's URL; a one-line failure that
    says to run `pstg login` when there is none or it has expired."""
    from pstg.cli.credentials import credentials_path, find_login, readable_by_others
    from pstg.model import utc_now

    from_env = os.environ.get(TOKEN_ENV)
    if from_env:
        return Token(from_env.strip(), f"the token in ${TOKEN_ENV}")
    login = find_login(service.url)
    login_hint = f"run `{service.command('login')}`"
    if login is None:
        fail(f"not logged in to {service.url}: {login_hint}", exit_code(Unauthenticated))
    if login.expired(utc_now()):
        fail(
            f"the login of {login.username!r} to {service.url} has expired: {login_hint}",
            exit_code(Unauthenticated),
        )
    path = credentials_path()
    if readable_by_others(path):
        stderr.print(f"warning: others may read {path}: chmod 600 it", markup=False)
    return Token(login.access_token, f"the login of {login.username!r} ({login_hint} again)")


def not_answering(url: str) -> Unavailable:
    return Unavailable(f"the PSTG service at {url} is not answering (is `pstg run` running?)")


class ServiceClient:
    """Requests to one service; every failure raises a domain error with a one-line message."""

    def __init__(self, service: Service, token: Token | None) -> None:
        import httpx

        self.service = service
        self.token = token
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token.value}"
        self._client = httpx.Client(
            base_url=service.url,
            headers=headers,
            timeout=httpx.Timeout(DEFAULT_TIMEOUT, connect=CONNECT_TIMEOUT),
            # Our own service on a named address: a proxy from the environment is never meant.
            trust_env=False,
        )

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, *, timeout: float | None = None) -> Any:
        return self.request("POST", path, json=body if body is not None else {}, timeout=timeout)

    def request(self, method: str, path: str, *, timeout: float | None = None, **kw: Any) -> Any:
        """The JSON body of a 2xx answer; a domain error for anything else."""
        import httpx

        if timeout is not None:
            kw["timeout"] = httpx.Timeout(timeout, connect=CONNECT_TIMEOUT)
        try:
            response = self._client.request(method, path, **kw)
        except httpx.TransportError as exc:
            raise not_answering(self.service.url) from exc
        return self.answer(response)

    def health(self) -> dict[str, Any]:
        """The service's health report, also when it answers 503 (down: still the station's)."""
        import httpx

        try:
            response = self._client.get("/api/v1/health", timeout=CONNECT_TIMEOUT)
        except httpx.TransportError as exc:
            raise not_answering(self.service.url) from exc
        if response.status_code == 503:
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                return body
        report = self.answer(response)
        return report if isinstance(report, dict) else {}

    def answer(self, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success:
            if body is None:
                raise ServiceError(f"{self.service.url} answered, but not with JSON: not PSTG?")
            return body
        detail = body.get("detail") if isinstance(body, dict) else None
        rule = body.get("rule") if isinstance(body, dict) else None
        text = detail if isinstance(detail, str) else response.reason_phrase
        if response.status_code == 401 and response.request.url.path.endswith(LOGIN_PATH):
            text = f"login refused: {text}"
        elif response.status_code == 401 and self.token is not None:
            text = f"{self.token.source} was refused: {text}"
        elif response.status_code == 401:
            text = f"{text}: run `{self.service.command('login')}`"
        raise refusal(response.status_code, text, rule if isinstance(rule, str) else None)
