"""Which tag a name in an export option or an import file means: the tags of one station, or
of every station, by name (retired tags included, so old history stays reachable)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pstg.model import DataType
from pstg.storage.schema import stations, tags
from pstg.storage.transfer.errors import AmbiguousTag, UnknownStation, UnknownTag


class TagInfo(NamedTuple):
    id: int
    name: str
    station: str
    is_text: bool
    """A string tag: its values are text (in text_samples)."""


class TagDirectory:
    """The tags of one station, or of every station, by name (retired tags included)."""

    def __init__(self, found: Iterable[TagInfo], station: str | None = None) -> None:
        self.station = station
        self._by_name: dict[str, list[TagInfo]] = {}
        for info in found:
            self._by_name.setdefault(info.name, []).append(info)

    @classmethod
    def load(cls, engine: Engine, station: str | None = None) -> TagDirectory:
        """Read the tags table; UnknownStation if `station` is given and not in the database."""
        query = sa.select(tags.c.id, tags.c.name, stations.c.key, tags.c.data_type).join(
            stations, stations.c.id == tags.c.station_id
        )
        with engine.connect() as connection:
            if station is not None:
                known = list(connection.execute(sa.select(stations.c.key)).scalars())
                if station not in known:
                    listed = ", ".join(sorted(known)) or "none yet"
                    raise UnknownStation(f"unknown station {station!r} (stations: {listed})")
                query = query.where(stations.c.key == station)
            found = [
                TagInfo(int(tag_id), name, key, data_type == DataType.STRING.value)
                for tag_id, name, key, data_type in connection.execute(query)
            ]
        return cls(found, station)

    def get(self, name: str) -> TagInfo:
        """The tag called `name`; UnknownTag or AmbiguousTag (the message names the stations)."""
        found = self._by_name.get(name)
        if found is None:
            where = f" in station {self.station!r}" if self.station is not None else ""
            raise UnknownTag(
                f"unknown tag {name!r}{where} (the database knows the tags of the station "
                "configs it was synced with; is it in the config?)"
            )
        if len(found) > 1:
            names = ", ".join(sorted(info.station for info in found))
            raise AmbiguousTag(
                f"tag {name!r} exists in stations {names}: choose one with --station"
            )
        return found[0]

    def select(self, names: Sequence[str] | None) -> list[TagInfo]:
        """The named tags, or all of them when `names` is None, sorted by name."""
        chosen = sorted(set(self._by_name) if names is None else set(names))
        return [self.get(name) for name in chosen]
