"""GET /config: the station config this service runs, as JSON, without secrets (engineer).

Secrets a config can hold: a password in the storage URL (or in its query string), values
of driver `options` whose key names one (`pstg.config.secrets`: password, pwd, pin, auth,
token, secret, key, credential ...), at any depth, and passwords in URLs among the options;
in `notifications`, the SMTP and MQTT passwords, each webhook's secret and header values, and
passwords in webhook and heartbeat URLs. They read `***`; a secret given as `{env: NAME}`
shows the variable's name, which is no secret.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from pstg.api.deps import Context
from pstg.api.routers import API_PREFIX
from pstg.api.security import require
from pstg.auth.roles import Role
from pstg.config.models import StationConfig
from pstg.config.notifications import NotificationsConfig, Secret
from pstg.config.secrets import REDACTED, is_secret_key, redact_url_passwords
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
    update = {"storage": storage, "devices": devices}
    if config.notifications is not None:
        update["notifications"] = _redacted_notifications(config.notifications)
    return config.model_copy(update=update)


def _hidden(secret: Secret | None) -> Secret | None:
    return REDACTED if isinstance(secret, str) else secret


def _redacted_notifications(section: NotificationsConfig) -> NotificationsConfig:
    update: dict[str, Any] = {
        "webhooks": [
            hook.model_copy(update={
                "secret": _hidden(hook.secret),
                "headers": dict.fromkeys(hook.headers, REDACTED),
                "url": redact_url_passwords(hook.url),
            })
            for hook in section.webhooks
        ]
    }  # fmt: skip
    if section.email is not None:
        update["email"] = section.email.model_copy(
            update={"password": _hidden(section.email.password)}
        )
    heartbeat = section.heartbeat
    if heartbeat is not None:
        changes: dict[str, Any] = {
            "url": redact_url_passwords(heartbeat.url) if heartbeat.url else None
        }
        if heartbeat.mqtt is not None:
            changes["mqtt"] = heartbeat.mqtt.model_copy(
                update={"password": _hidden(heartbeat.mqtt.password)}
            )
        update["heartbeat"] = heartbeat.model_copy(update=changes)
    return section.model_copy(update=update)


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
