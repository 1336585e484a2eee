"""The channels a notification can travel by, one module each, built by name from the config.

    base.py      Channel (what the delivery needs of one), DeliveryError
    email.py     SMTP through aiosmtplib: STARTTLS, SSL or plain, with or without login
    webhook.py   HTTP POST through httpx: the JSON document or an SMS/voice text, signed

A new channel (MQTT, say) is a module here with a `Channel` and a line in `build_channels`;
the notification sinks, the journal and the failure alarm need no change.
"""

from __future__ import annotations

from pstg.config.notifications import EMAIL_CHANNEL, NotificationsConfig
from pstg.notify.channels.base import Channel, DeliveryError
from pstg.notify.channels.email import EmailChannel
from pstg.notify.channels.webhook import WebhookChannel


def build_channels(section: NotificationsConfig) -> dict[str, Channel]:
    """Every channel the section configures, by name (`email`, then each webhook's name).

    MissingSecret when a secret names an unset environment variable."""
    channels: dict[str, Channel] = {}
    if section.email is not None:
        channels[EMAIL_CHANNEL] = EmailChannel(section.email)
    for hook in section.webhooks:
        channels[hook.name] = WebhookChannel(hook)
    return channels


__all__ = ["Channel", "DeliveryError", "EmailChannel", "WebhookChannel", "build_channels"]
