"""Every error leaves the API as JSON `{"detail": "<what is wrong>"}`.

- HTTPException (ours, FastAPI's, Starlette's 404/405): its status and detail, headers kept
  (`WWW-Authenticate` on a 401).
- Request validation: 422 with one readable sentence per bad parameter, e.g.
  `query parameter 'points': must be less than or equal to 5000, got '9000'`.
- The database unreachable while answering: 503 `database unavailable`, logged.
- A value the database refuses to compare (text with NUL, a number beyond its range): 422.
  Routers check their parameters first; this is the net under them.
- Anything else is a bug: 500 `internal error`, logged with its traceback; the client learns
  nothing about the internals.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("pstg.api")

_WHERE = {
    "query": "query parameter",
    "path": "path parameter",
    "header": "header",
    "cookie": "cookie",
    "body": "body field",
}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(sa.exc.OperationalError, _database_unavailable)
    app.add_exception_handler(sa.exc.DataError, _data_refused)
    app.add_exception_handler(Exception, _internal_error)


def error_response(
    status: int, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """FastAPI's list of validation errors as one sentence per parameter, joined by `; `."""
    return "; ".join(_describe(error) for error in errors) or "invalid request"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return error_response(exc.status_code, detail, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, describe_validation_errors(exc.errors()))


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: database unavailable: %s", request.method, request.url.path, exc)
    return error_response(503, "database unavailable")


async def _data_refused(request: Request, exc: Exception) -> JSONResponse:
    # A safety net: parameters are checked before they reach the database, but a value the
    # database cannot even compare (text with NUL, a number out of its range) is the
    # client's, not a fault of the service.
    log.warning("%s %s: value refused by the database: %s", request.method, request.url.path, exc)
    return error_response(422, "a value in the request is not valid (e.g. a NUL character)")


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error")


def _describe(error: Any) -> str:
    if not isinstance(error, Mapping):
        return str(error)
    loc = [str(part) for part in error.get("loc", ())]
    where = _WHERE.get(loc[0], loc[0]) if loc else "request"
    name = ".".join(loc[1:])
    subject = f"{where} {name!r}" if name else ("body" if where == "body field" else where)
    if error.get("type") == "missing":
        return f"{subject}: is required"
    if error.get("type") == "json_invalid":
        return f"body: is not valid JSON ({(error.get('ctx') or {}).get('error', 'malformed')})"
    message = str(error.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ")
    if message.startswith("Input should be "):
        message = "must be " + message.removeprefix("Input should be ")
    elif message[:1].isupper() and not message[1:2].isupper():
        message = message[0].lower() + message[1:]
    # Echo what was sent for parameters in the URL, never for a body (it may hold a password).
    if loc[:1] != ["body"] and isinstance(error.get("input"), str | int | float):
        message += f", got {_shorten(str(error['input']))!r}"
    return f"{subject}: {message}"


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
