"""The JSON document a webhook with `template: json` receives, and the schema it follows.

The schema ships in the package (`schemas/alarm-notification.v1.json`) and is the contract:
`document` builds exactly what it allows (tests validate against it). A change that could
break a reader is a new version and a new file, never an edit of v1.
"""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from typing import Any

from pstg.notify.message import AlarmInfo, Content, Digest, Recipient, short_text
from pstg.times import format_instant

SCHEMA_VERSION = 1
SCHEMA_FILE = "alarm-notification.v1.json"


def schema() -> dict[str, Any]:
    """The JSON Schema of the document, as shipped."""
    text = resources.files("pstg.notify").joinpath("schemas", SCHEMA_FILE).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def document(
    content: Content, recipient: Recipient, *, notification_id: str, sent_at: datetime
) -> dict[str, Any]:
    """The document of `content` for `recipient`."""
    head: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "id": notification_id,
        "sent_at": format_instant(sent_at),
        "kind": content.kind.value,
        "recipient": {"name": recipient.name, "email": recipient.email, "phone": recipient.phone},
        "text": short_text(content),
        "console_url": content.link,
    }
    if isinstance(content, Digest):
        return head | {
            "type": "digest",
            "station": {"id": content.station_id, "name": content.station_name},
            "notices": [
                {"kind": notice.kind.value, "alarm": _alarm(notice.alarm)}
                for notice in content.notices
            ],
        }
    alarm = content.alarm
    return head | {
        "type": "notice",
        "station": {"id": alarm.station_id, "name": alarm.station_name},
        "route": content.route,
        "level": content.level + 1,
        "alarm": _alarm(alarm),
    }


def _alarm(alarm: AlarmInfo) -> dict[str, Any]:
    return {
        "id": alarm.alarm_id,
        "priority": alarm.priority,
        "state": alarm.state,
        "previous": alarm.previous,
        "reason": alarm.reason,
        "ts": format_instant(alarm.ts),
        "message": alarm.message,
        "description": alarm.description,
        "tag": alarm.tag,
        "value": alarm.value,
        "unit": alarm.unit,
        "user": alarm.user,
    }
