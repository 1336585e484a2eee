"""GET /config: the station config this service runs, as JSON, without secrets (engineer).

Secrets a config can hold: a password in the storage URL (or in its query string), and values
of driver `options` whose key names one (password, secret, token, key). They read `***`.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from pstg.api.deps import Context
from pstg.api.routers import API_PREFIX
from pstg.api.security import require
from pstg.auth.roles import Role
from pstg.config.models import StationConfig

REDACTED = "***"
_SECRET_KEY = re.compile(r"pass|secret|token|key|credential", re.IGNORECASE)

router = APIRouter(
    prefix=API_PREFIX, tags=["config"], dependencies=[Depends(require(Role.ENGINEER))]
)


@router.get(
    "/config",
    response_model=StationConfig,
    # What the file says, not every default: the answer loads back as the same config.
    response_model_exclude_unset=True,
    summary="The station config, secrets hidden",
)
async def get_config(context: Context) -> StationConfig:
    return redacted(context.config)


def redacted(config: StationConfig) -> StationConfig:
    """A copy of `config` with secrets replaced by `***`."""
    storage = config.storage.model_copy(update={"url": _redacted_url(config.storage.url)})
    devices = [
        device.model_copy(update={"options": _redacted_options(device.options)})
        for device in config.devices
    ]
    return config.model_copy(update={"storage": storage, "devices": devices})


def _redacted_url(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return REDACTED  # not a URL we can take apart; it might hold anything
    secret_keys = [key for key in parsed.query if _SECRET_KEY.search(key)]
    if parsed.password is None and not secret_keys:
        return url
    parsed = parsed.difference_update_query(secret_keys)
    shown = parsed.render_as_string(hide_password=True)  # the password as ***
    extra = "&".join(f"{key}={REDACTED}" for key in secret_keys)
    if not extra:
        return shown
    return f"{shown}{'&' if parsed.query else '?'}{extra}"


def _redacted_options(options: dict[str, Any]) -> dict[str, Any]:
    return {
        key: REDACTED if _SECRET_KEY.search(key) else _nested(value)
        for key, value in options.items()
    }


def _nested(value: Any) -> Any:
    return _redacted_options(value) if isinstance(value, dict) else value
