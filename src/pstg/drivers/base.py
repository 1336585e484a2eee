"""The Driver protocol: the whole contract between the poller and a field protocol.

A driver is created per configured device by the registry, connects lazily, reads the blocks the
read planner produced and returns raw words (registers) or bits (0/1). It raises only
`pstg.drivers.errors.DriverError` subclasses. Devices that share a physical line (one serial
port, one gateway host:port) get drivers that share one connection through `DriverContext`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from enum import StrEnum
from typing import Any, Protocol, TypeVar, runtime_checkable

from pstg.config.models import DeviceConfig
from pstg.drivers.planner import ReadBlock
from pstg.model import RegisterTable


class ConnectionState(StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTED = "connected"


@runtime_checkable
class Driver(Protocol):
    """What the poller needs from a device driver."""

    @property
    def state(self) -> ConnectionState: ...

    async def connect(self) -> None:
        """Open (or join) the link; raise ConnectFailed. A no-op when already connected."""

    async def read(self, block: ReadBlock, *, urgent: bool = False) -> Sequence[int]:
        """Read one planned block: `block.count` registers (0..65535) or bits (0/1).
        `urgent` (the read-back of a write) goes before the poll requests waiting on the link."""

    async def write(self, table: RegisterTable, address: int, values: Sequence[int]) -> None:
        """Write registers or coils (bits as 0/1) starting at `address`, all in one request,
        before the poll requests waiting on the link; never resent (it could act twice)."""

    async def close(self) -> None:
        """Release this device's hold on the link; the last user closes it."""


class DriverFactory(Protocol):
    """What the `pstg.drivers` entry points name: usually the driver class itself."""

    def __call__(self, device: DeviceConfig, context: DriverContext) -> Driver: ...


_T = TypeVar("_T")


class DriverContext:
    """Resources shared by the drivers of one gateway process.

    A driver asks for a shared object by a key (e.g. ("tcp", host, port)); the first asker
    creates it and later ones get the same instance. `aclose` closes what was created.
    """

    def __init__(self) -> None:
        self._shared: dict[Hashable, Any] = {}
        self._closers: list[Callable[[], Awaitable[None]]] = []

    def shared(self, key: Hashable, factory: Callable[[], _T]) -> _T:
        if key not in self._shared:
            resource = factory()
            self._shared[key] = resource
            closer = getattr(resource, "aclose", None)
            if closer is not None:
                self._closers.append(closer)
        result: _T = self._shared[key]
        return result

    async def aclose(self) -> None:
        closers, self._closers = self._closers, []
        self._shared.clear()
        for closer in reversed(closers):
            await closer()
