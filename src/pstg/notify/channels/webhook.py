"""Webhooks: an HTTP POST per notification, signed, through httpx.

Bodies, by `template`:

- `json`: the alarm-notification document (`pstg.notify.document`, schema v1 in the package);
- `sms`: `{"to": phone, "text": ..., "id": ..., "station": ..., "alarm": ...}`, a text of at
  most 300 characters (two SMS segments' worth) for an SMS gateway;
- `voice`: `{"to": phone, "say": ..., "id": ...}`, words a text-to-speech call reads out.

Signature (when `secret` is set): `X-PSTG-Timestamp: <unix seconds>` and
`X-PSTG-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>`. A
receiver recomputes it over the raw body and refuses a timestamp more than a few minutes
old, so a captured request cannot be replayed later; `X-PSTG-Notification-Id` is the same on
every retry of one notification, so a receiver can also drop duplicates.

Answers: 2xx is delivered; 408, 429 and 5xx (and no answer at all) are worth a retry; any
other status is permanent (a wrong URL does not heal by itself).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

import httpx

from pstg.config.notifications import WebhookConfig, resolve_secret
from pstg.notify.channels.base import DeliveryError
from pstg.notify.document import document
from pstg.notify.message import Content, Digest, Recipient, short_text

SIGNATURE_HEADER = "X-PSTG-Signature"
TIMESTAMP_HEADER = "X-PSTG-Timestamp"
ID_HEADER = "X-PSTG-Notification-Id"
_RETRY_STATUSES = frozenset({408, 425, 429})


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The `X-PSTG-Signature` value of `body` sent at `timestamp`."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def body_of(
    template: str, content: Content, recipient: Recipient, *, notification_id: str, now: datetime
) -> dict[str, Any]:
    """The JSON body of a notification for `template`."""
    if template == "json":
        return document(content, recipient, notification_id=notification_id, sent_at=now)
    words = short_text(content)
    if template == "voice":
        spoken = words.replace("_", " ").replace(".", " ")
        return {"to": recipient.phone, "say": f"{spoken}. I repeat. {spoken}.",
                "id": notification_id}  # fmt: skip
    station = content.station_id if isinstance(content, Digest) else content.alarm.station_id
    return {"to": recipient.phone, "text": words, "id": notification_id, "station": station,
            "alarms": content.alarm_ids}  # fmt: skip


class WebhookChannel:
    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self.name = config.name
        secret = resolve_secret(config.secret)
        self._secret = secret.reveal().encode() if secret is not None else None
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.config.timeout, follow_redirects=False)
        return self._client

    async def send(
        self, content: Content, recipient: Recipient, *, notification_id: str, now: datetime
    ) -> str:
        config = self.config
        if config.template != "json" and recipient.phone is None:
            raise DeliveryError(f"{recipient.name} has no phone number", permanent=True)
        body = json.dumps(
            body_of(config.template, content, recipient, notification_id=notification_id,
                    now=now),
            separators=(",", ":"), ensure_ascii=False,
        ).encode()  # fmt: skip
        headers = {
            **config.headers,
            "Content-Type": "application/json",
            "User-Agent": "pstg-notify/1",
            ID_HEADER: notification_id,
        }
        if self._secret is not None:
            timestamp = str(int(now.timestamp()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = signature(self._secret, timestamp, body)
        try:
            response = await self._http().post(config.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {str(exc)[:300]}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return f"HTTP {status}"
        reason = f"HTTP {status}: {response.text[:200]}".strip()
        permanent = status < 500 and status not in _RETRY_STATUSES
        raise DeliveryError(reason, permanent=permanent)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
