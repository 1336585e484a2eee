"""What the live stream says, as Server-Sent Events bytes (docs/api.md, GET /api/v1/stream).

    retry: 2000                       first, once: the browser reconnects after 2 s
    event: snapshot                   everything: {"seq", "tags", "alarms", "devices"}
    event: values                     {"seq", "tags": only the tags changed since the last one}
    event: alarms                     the current alarm list, when an alarm changed state
    event: devices                    every device's link state, when one changed
    : ping                            a comment, so proxies and browsers keep the link

Each message is built once and the same bytes go to every client that gets it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import TypeAdapter
from pydantic_core import to_json

from pstg.api.routers.alarms import AlarmOut, alarm_out
from pstg.config.models import DeviceConfig
from pstg.poller.stats import DeviceStats, LinkStatus

if TYPE_CHECKING:
    from pstg.alarms.service import AlarmService

RETRY_MS = 2000
RETRY = f"retry: {RETRY_MS}\n\n".encode()
PING = b": ping\n\n"

DEVICE_STATE = {
    LinkStatus.UNKNOWN: "unknown",
    LinkStatus.UP: "connected",
    LinkStatus.DOWN: "disconnected",
}
"""A device's `state` on the stream; a device disabled in the config is `disabled`."""

_ALARM_LIST = TypeAdapter(list[AlarmOut])


def event(name: str, data: str) -> bytes:
    """One event; `data` is JSON, which never holds a line break."""
    return f"event: {name}\ndata: {data}\n\n".encode()


def tags_message(name: str, seq: int, tag_map: str) -> bytes:
    """A `values` event (or the tags part of a snapshot, see `snapshot_message`)."""
    return event(name, f'{{"seq":{seq},"tags":{tag_map}}}')


def snapshot_message(seq: int, tag_map: str, alarms: str, devices: str) -> bytes:
    return event(
        "snapshot", f'{{"seq":{seq},"tags":{tag_map},"alarms":{alarms},"devices":{devices}}}'
    )


def shown_alarms(service: AlarmService | None) -> str:
    """The alarms that are active, unacknowledged or shelved, as GET /alarms shows each one."""
    if service is None:
        return "[]"
    chosen = [
        alarm_out(alarm)
        for alarm in service.engine.alarms()
        if alarm.active or not alarm.acked or alarm.state.value == "shelved"
    ]
    return _ALARM_LIST.dump_json(chosen).decode()


DeviceKey = tuple[tuple[str, str, str | None], ...]
"""What the `devices` event depends on: each device's state and last error."""


def device_key(devices: list[DeviceConfig], stats: Mapping[str, DeviceStats]) -> DeviceKey:
    key = []
    for device in devices:
        held = stats.get(device.id)
        if not device.enabled:
            state, error = "disabled", None
        elif held is None:
            state, error = DEVICE_STATE[LinkStatus.UNKNOWN], None
        else:
            state, error = DEVICE_STATE[held.status], held.last_error
        key.append((device.id, state, error))
    return tuple(key)


def devices_json(key: DeviceKey) -> str:
    return to_json(
        {device: {"state": state, "last_error": error} for device, state, error in key}
    ).decode()
