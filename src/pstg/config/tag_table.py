"""The station's tags by number: the one lookup every stage of the data path shares.

Batches name tags by their index in this table, not by name: an int32 column instead of a
string per value. Indexes follow the config (devices in order, each device's tags in order),
so a worker process that polls some of the devices numbers their tags exactly as the main
process does without asking it. The storage catalog maps indexes to database ids; the API
maps names to indexes here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pstg.config.models import DeviceConfig, StationConfig, TagConfig
from pstg.errors import NotFound
from pstg.model import DataType


@dataclass(frozen=True, slots=True)
class DeviceTags:
    """Where one device's tags sit in the table: indexes `first` .. `first + count - 1`."""

    device: DeviceConfig
    first: int

    @property
    def count(self) -> int:
        return len(self.device.tags)

    def index_of(self, position: int) -> int:
        """The table index of the device's tag at `position` in its `tags` list."""
        return self.first + position


class TagTable:
    """Index <-> name, device and the few per-tag facts the hot path needs as columns."""

    def __init__(self, devices: Sequence[DeviceConfig]) -> None:
        names: list[str] = []
        tags: list[TagConfig] = []
        self.devices: dict[str, DeviceTags] = {}
        device_of: list[int] = []
        for number, device in enumerate(devices):
            self.devices[device.id] = DeviceTags(device, len(names))
            names.extend(tag.name for tag in device.tags)
            tags.extend(device.tags)
            device_of.extend([number] * len(device.tags))
        self.names: tuple[str, ...] = tuple(names)
        self._tags = tags
        self._index = {name: index for index, name in enumerate(names)}
        self.device_ids: tuple[str, ...] = tuple(device.id for device in devices)
        self.device_of: npt.NDArray[np.int32] = np.array(device_of, dtype=np.int32)
        """Device number (position in the config) of each tag."""
        self.is_text: npt.NDArray[np.bool_] = np.array(
            [tag.data_type is DataType.STRING for tag in tags], dtype=np.bool_
        )
        self.deadbands: npt.NDArray[np.float64] = np.array(
            [tag.deadband or 0.0 for tag in tags], dtype=np.float64
        )
        """Absolute deadband in engineering units; 0 means any change counts."""

    @classmethod
    def from_config(cls, config: StationConfig) -> TagTable:
        return cls(config.devices)

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def index(self, name: str) -> int:
        """The index of tag `name`; NotFound naming it otherwise."""
        try:
            return self._index[name]
        except KeyError:
            raise NotFound(f"no tag {name!r} in this station") from None

    def get(self, name: str) -> int | None:
        return self._index.get(name)

    @property
    def index_of(self) -> dict[str, int]:
        """Name -> index, for code that looks up many names (read only, by convention)."""
        return self._index

    def tag(self, index: int) -> TagConfig:
        return self._tags[index]

    def device_id(self, index: int) -> str:
        return self.device_ids[int(self.device_of[index])]
