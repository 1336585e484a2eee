"""The console's pages: each checks the session cookie (no session: to /login), renders the
page for the user's role (a page above it: 403 and a link home), and hands the page's
scripts what they need in a JSON data block (no inline script: the page CSP forbids it)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from pstg.api.context import ApiContext
from pstg.api.security import SESSION_COOKIE
from pstg.auth.roles import Role
from pstg.auth.service import AuthError, Principal
from pstg.auth.sessions import csrf_token
from pstg.console.picture import picture_of

STATIC_URL = "/static"
UPLOT_URL = "/static/vendor/uplot"
UPLOT_FILES = ("uPlot.iife.js", "uPlot.min.css")


@dataclass(frozen=True)
class Page:
    path: str
    name: str
    title: str
    role: Role


PAGES = (
    Page("/", "overview", "Overview", Role.VIEWER),
    Page("/alarms", "alarms", "Alarms", Role.VIEWER),
    Page("/notifications", "notifications", "Notifications", Role.OPERATOR),
    Page("/trends", "trends", "Trends", Role.VIEWER),
    Page("/events", "events", "Events", Role.VIEWER),
    Page("/devices", "devices", "Devices", Role.VIEWER),
    Page("/audit", "audit", "Audit", Role.ENGINEER),
    Page("/users", "users", "Users", Role.ADMIN),
)


class ConsoleFiles(StaticFiles):
    """Static files that say `no-cache` (pstg.api.hygiene sets it for /static/ too)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        return response


def uplot_folder() -> Path:
    """uPlot's files as the `uplot-python` package installs them."""
    # Found without importing the package (its __init__ imports its plotting helpers).
    spec = find_spec("uplot")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the uplot-python package is not installed: `uv sync` installs it")
    folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    missing = [name for name in UPLOT_FILES if not (folder / name).is_file()]
    if missing:  # a broken install: say so at start, not as a page without charts
        raise RuntimeError(f"uPlot files missing from {folder}: {', '.join(missing)}")
    return folder


def install_console(app: FastAPI) -> None:
    """Add the console's pages and files to the API's app (after `create_app`)."""
    context: ApiContext = app.state.context
    templates = Environment(
        loader=PackageLoader("pstg.console", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    picture = picture_of(context.config)
    station = context.config.station.name or context.config.station.id
    command_roles = {
        tag.name: Role.parse(tag.command.role)
        for device in context.config.devices
        for tag in device.tags
        if tag.command is not None
    }
    # create_app makes the stream's hub; an app without it (a test's) is polled instead.
    streams = getattr(app.state, "streams", None) is not None

    async def principal_of(request: Request) -> tuple[Principal, str] | None:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        try:
            principal = await context.auth.authenticate_session_on_loop(cookie)
            if principal is None:  # not readable on the loop now, or its last use is due
                principal = await run_in_threadpool(context.auth.authenticate_session, cookie)
        except AuthError:
            return None
        return principal, cookie

    def render(template: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = templates.get_template(template).render(station=station, **values)
        return HTMLResponse(html, status_code=status)

    def page_handler(page: Page) -> Any:
        async def show(request: Request) -> Response:
            found = await principal_of(request)
            if found is None:
                here = page.path + (f"?{request.url.query}" if request.url.query else "")
                target = "/login" + ("" if here == "/" else f"?next={quote(here, safe='/')}")
                return RedirectResponse(target, status_code=303)
            principal, cookie = found
            nav = [other for other in PAGES if principal.role >= other.role]
            values: dict[str, Any] = {
                "page": page, "nav": nav, "user": principal.username,
                "role": principal.role.label, "csrf": csrf_token(cookie),
            }  # fmt: skip
            data: dict[str, Any] = {
                "page": page.name,
                "user": principal.username,
                "role": principal.role.label,
                "live": "stream" if streams else "poll",
                "stationId": context.config.station.id,
            }
            values["data"] = data
            if principal.role < page.role:
                values["data"]["page"] = "denied"
                return render("denied.html", 403, **values, needed=page.role.label)
            if page.name == "notifications":
                data["notifications"] = notifications_of(context)
            values["picture"] = picture
            values["can"] = {role.label: principal.role >= role for role in Role}
            values["allowed"] = {
                name for name, role in command_roles.items() if principal.role >= role
            }
            return render(f"{page.name}.html", **values)

        show.__name__ = f"console_{page.name}"
        return show

    for page in PAGES:
        app.add_api_route(page.path, page_handler(page), methods=["GET"], include_in_schema=False)

    async def login(request: Request) -> Response:
        if await principal_of(request) is not None:
            return RedirectResponse(_safe_next(request.query_params.get("next")), 303)
        return render("login.html", page=Page("/login", "login", "Log in", Role.VIEWER))

    app.add_api_route("/login", login, methods=["GET"], include_in_schema=False)
    # The more specific mount first: Starlette takes the first that matches.
    app.mount(UPLOT_URL, ConsoleFiles(directory=uplot_folder()), name="console-uplot")
    static = Path(str(files("pstg.console") / "static"))
    app.mount(STATIC_URL, ConsoleFiles(directory=static), name="console-static")


def notifications_of(context: ApiContext) -> dict[str, Any]:
    """What the notifications page needs to know of the config: whether there is a
    `notifications:` section, its channels, and the names a test may go to."""
    section = context.config.notifications
    if section is None:
        return {"configured": False, "channels": [], "names": [], "sends": False}
    return {
        "configured": True,
        "channels": section.channel_names(),
        "names": [{"kind": kind, "name": name} for kind, name in section.names()],
        "sends": bool(context.notifications),  # False in a process that sends none
    }


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (never `//elsewhere`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
