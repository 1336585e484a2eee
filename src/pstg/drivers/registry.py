"""Driver registry: a device's `driver:` name to the factory that builds its driver.

Drivers are found through the `pstg.drivers` entry-point group, so a third-party package adds one
by declaring it in its own pyproject.toml; the built-in Modbus drivers are declared the same way
in ours. `register_driver` adds a factory in-process (tests use it to put a fake behind the seam);
it takes precedence over an entry point of the same name.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points

from pstg.config.models import DeviceConfig
from pstg.drivers.base import Driver, DriverContext, DriverFactory

ENTRY_POINT_GROUP = "pstg.drivers"

_registered: dict[str, DriverFactory] = {}


class UnknownDriverError(ValueError):
    """No driver is known by the requested name."""

    def __init__(self, name: str, available: set[str]) -> None:
        self.name = name
        self.available = available
        known = ", ".join(sorted(available)) or "none"
        super().__init__(f"unknown driver {name!r}; available drivers: {known}")


class DriverLoadError(RuntimeError):
    """A driver's entry point is declared but cannot be imported."""


@functools.cache
def _entry_points() -> dict[str, EntryPoint]:
    # Scanning installed distributions costs milliseconds; the set cannot change while we run.
    return {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}


@functools.cache
def _load(name: str) -> DriverFactory:
    point = _entry_points()[name]
    try:
        factory: DriverFactory = point.load()
    except Exception as exc:
        raise DriverLoadError(f"driver {name!r} ({point.value}) cannot be loaded: {exc}") from exc
    return factory


def available_drivers() -> set[str]:
    """Names a device may use as `driver:`."""
    return set(_entry_points()) | set(_registered)


def register_driver(name: str, factory: DriverFactory) -> None:
    """Make `factory` build the drivers named `name`, ahead of any entry point of that name."""
    _registered[name] = factory


def unregister_driver(name: str) -> None:
    """Undo `register_driver` (entry points of that name become visible again)."""
    _registered.pop(name, None)


def driver_factory(name: str) -> DriverFactory:
    """The factory for `name`; UnknownDriverError lists the names there are."""
    if name in _registered:
        return _registered[name]
    if name in _entry_points():
        return _load(name)
    raise UnknownDriverError(name, available_drivers())


def create_driver(device: DeviceConfig, context: DriverContext) -> Driver:
    """Build the driver of `device` (it connects later, on first use or `connect()`)."""
    return driver_factory(device.driver)(device, context)
