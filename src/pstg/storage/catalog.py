"""The catalog: the station's devices and tags in the database, kept in step with the config.

`sync_catalog` runs at start-up. Tags are matched by name: a tag in the config is inserted or
has its metadata updated (and is un-retired if it comes back); a tag that is no longer in the
config is retired, never deleted, so its history stays queryable. A renamed tag is therefore a
new tag, and the old name keeps the old history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pstg.config.models import DeviceConfig, StationConfig, TagConfig
from pstg.model import utc_now
from pstg.storage.rows import to_micros
from pstg.storage.schema import devices, stations, tags


@dataclass(frozen=True)
class Catalog:
    station_id: int
    tag_ids: dict[str, int]
    """Active tags by name."""
    added: tuple[str, ...]
    retired: tuple[str, ...]


def sync_catalog(engine: Engine, config: StationConfig) -> Catalog:
    """Bring stations/devices/tags in line with `config`; returns the tag ids to write with."""
    now = to_micros(utc_now())
    with engine.begin() as connection:
        station_id = _station(connection, config, now)
        _devices(connection, station_id, config.devices, now)
        return _tags(connection, station_id, config, now)


def tag_ids(engine: Engine, station_key: str | None = None) -> dict[str, int]:
    """Every tag's id by name (retired ones too), optionally of one station only."""
    query = sa.select(tags.c.name, tags.c.id)
    if station_key is not None:
        query = query.join(stations, stations.c.id == tags.c.station_id).where(
            stations.c.key == station_key
        )
    with engine.connect() as connection:
        return {name: tag_id for name, tag_id in connection.execute(query)}


def _new_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _station(connection: Connection, config: StationConfig, now: int) -> int:
    info = config.station
    found = connection.execute(
        sa.select(stations.c.id).where(stations.c.key == info.id)
    ).scalar_one_or_none()
    if found is not None:
        connection.execute(stations.update().where(stations.c.id == found).values(name=info.name))
        return int(found)
    result = connection.execute(
        stations.insert().values(key=info.id, name=info.name, created_at=now)
    )
    return _new_id(result)


def _devices(
    connection: Connection, station_id: int, configured: list[DeviceConfig], now: int
) -> None:
    existing: dict[str, int] = {
        key: device_id
        for key, device_id in connection.execute(
            sa.select(devices.c.key, devices.c.id).where(devices.c.station_id == station_id)
        )
    }
    for device in configured:
        address = device.serial_port or f"{device.host}:{device.port}"
        values = {
            "driver": device.driver,
            "address": address,
            "unit_id": device.unit_id,
            "retired_at": None,
        }
        if device.id in existing:
            connection.execute(
                devices.update().where(devices.c.id == existing[device.id]).values(**values)
            )
        else:
            connection.execute(
                devices.insert().values(station_id=station_id, key=device.id, **values)
            )
    gone = set(existing) - {device.id for device in configured}
    if gone:
        connection.execute(
            devices.update()
            .where(devices.c.station_id == station_id, devices.c.key.in_(gone))
            .where(devices.c.retired_at.is_(None))
            .values(retired_at=now)
        )


def _tag_values(device: DeviceConfig, tag: TagConfig, now: int) -> dict[str, object]:
    low, high = tag.range if tag.range is not None else (None, None)
    return {
        "device_key": device.id,
        "source": tag.source.value,
        "address": tag.address,
        "data_type": tag.data_type.value,
        "unit": tag.unit,
        "description": tag.description,
        "deadband": tag.deadband,
        "range_low": low,
        "range_high": high,
        "writable": tag.writable,
        "updated_at": now,
        "retired_at": None,
    }


def _tags(connection: Connection, station_id: int, config: StationConfig, now: int) -> Catalog:
    existing: dict[str, int] = {
        name: tag_id
        for name, tag_id in connection.execute(
            sa.select(tags.c.name, tags.c.id).where(tags.c.station_id == station_id)
        )
    }
    ids: dict[str, int] = {}
    added: list[str] = []
    for device in config.devices:
        for tag in device.tags:
            values = _tag_values(device, tag, now)
            if tag.name in existing:
                tag_id = existing[tag.name]
                connection.execute(tags.update().where(tags.c.id == tag_id).values(**values))
            else:
                result = connection.execute(
                    tags.insert().values(
                        station_id=station_id, name=tag.name, created_at=now, **values
                    )
                )
                tag_id = _new_id(result)
                added.append(tag.name)
            ids[tag.name] = tag_id
    retired = sorted(set(existing) - set(ids))
    if retired:
        connection.execute(
            tags.update()
            .where(tags.c.station_id == station_id, tags.c.name.in_(retired))
            .where(tags.c.retired_at.is_(None))
            .values(retired_at=now)
        )
    return Catalog(station_id, ids, tuple(added), tuple(retired))
