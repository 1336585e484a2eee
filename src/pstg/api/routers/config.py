"""GET /config: the station config this service runs, as JSON, without secrets (engineer).

Secrets a config can hold: a password in the storage URL (or in its query string), and values
of driver `options` whose key names one (`pstg.config.secrets`: password, pwd, pin, auth,
token, secret, key, credential ...), at any depth, and passwords in URLs among the options.
They read `***`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from pstg.api.deps import Context
from pstg.api.routers import API_PREFIX
from pstg.api.security import require
from pstg.auth.roles import Role
from pstg.config.models import StationConfig
from pstg.config.secrets import REDACTED, is_secret_key
from pstg.config.secrets import redacted as redacted_options

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
        device.model_copy(update={"options": redacted_options(device.options)})
        for device in config.devices
    ]
    return config.model_copy(update={"storage": storage, "devices": devices})


def _redacted_url(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return REDACTED  # not a URL we can take apart; it might hold anything
    secret_keys = [key for key in parsed.query if is_secret_key(key)]
    if parsed.password is None and not secret_keys:
        return url
    parsed = parsed.difference_update_query(secret_keys)
    shown = parsed.render_as_string(hide_password=True)  # the password as ***
    extra = "&".join(f"{key}={REDACTED}" for key in secret_keys)
    if not extra:
        return shown
    return f"{shown}{'&' if parsed.query else '?'}{extra}"
