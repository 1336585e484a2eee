"""The drivers' part of the whole-station checks: connection settings and request limits.

Each device's `driver:` must name a driver the registry can create (and import). A driver class
may offer two hooks, looked up on the factory the registry returns, so a third-party driver
checks its own devices the same way the built-in Modbus drivers do:

- `check_device(device) -> Iterable[Finding]`: problems with one device's own settings, at
  locations inside the device (`()` is the device itself, `("serial_port",)` one of its keys);
- `link_of(device) -> SharedLink | None`: the physical link the device is reached over. Devices
  on one link share one connection, opened once with one set of settings, so they must agree
  on the link's `settings`; drivers of different classes may name the same link (Modbus TCP and
  RTU-over-TCP on one host:port).

Each tag must also fit one request of its device; the read planner is asked itself, so the
limits are never defined twice. `pstg.station.load_station` passes `check_drivers` to the
config loader.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pstg.config.checks import Finding, LineOf, refer_to
from pstg.config.errors import suggest
from pstg.config.models import DeviceConfig, StationConfig
from pstg.drivers.base import DriverFactory
from pstg.drivers.planner import PlanError, check_tag_fits
from pstg.drivers.registry import DriverLoadError, available_drivers, driver_factory
from pstg.times import format_duration


@dataclass(frozen=True, slots=True)
class SharedLink:
    """A link several devices may share: how it is named in messages, what they must agree on."""

    name: str
    """`127.0.0.1:5021` or `serial port /dev/ttyUSB0`."""
    settings: tuple[str, ...]
    """DeviceConfig keys that every device on the link must set alike (e.g. `timeout`)."""


@runtime_checkable
class ChecksDevices(Protocol):
    """A driver (factory) that checks the settings of each of its devices."""

    def check_device(self, device: DeviceConfig) -> Iterable[Finding]: ...


@runtime_checkable
class SharesLinks(Protocol):
    """A driver (factory) whose devices may share a physical link."""

    def link_of(self, device: DeviceConfig) -> SharedLink | None: ...


def check_drivers(config: StationConfig, line_of: LineOf) -> list[Finding]:
    """Every problem of the devices' drivers: unknown or broken drivers, settings, limits, links."""
    factories: dict[int, DriverFactory] = {}
    findings = list(_driver_names(config, factories))
    findings += _device_settings(config, factories)
    findings += _request_limits(config)
    findings += _shared_links(config, factories, line_of)
    return findings


def _driver_names(config: StationConfig, factories: dict[int, DriverFactory]) -> Iterator[Finding]:
    """Each device's driver, found through the registry (into `factories`, by device index)."""
    available = sorted(available_drivers())
    for d, device in enumerate(config.devices):
        loc = ("devices", d, "driver")
        if device.driver not in available:
            match = suggest(device.driver, available)
            hint = f"did you mean {match!r}? " if match else ""
            yield Finding(
                loc, f"unknown driver {device.driver!r} ({hint}available: {', '.join(available)})"
            )
            continue
        try:
            factories[d] = driver_factory(device.driver)
        except DriverLoadError as exc:
            yield Finding(loc, str(exc))


def _device_settings(
    config: StationConfig, factories: dict[int, DriverFactory]
) -> Iterator[Finding]:
    for d, factory in factories.items():
        if isinstance(factory, ChecksDevices):
            for finding in factory.check_device(config.devices[d]):
                yield Finding(("devices", d, *finding.loc), finding.message)


def _request_limits(config: StationConfig) -> Iterator[Finding]:
    for d, device in enumerate(config.devices):
        for t, tag in enumerate(device.tags):
            if tag.register_count == 1:
                continue  # one register (or bit) always fits a request
            try:
                check_tag_fits(device, tag)
            except PlanError as exc:
                yield Finding(("devices", d, "tags", t), f"{exc}; raise max_registers_per_request")


def _shared_links(
    config: StationConfig, factories: dict[int, DriverFactory], line_of: LineOf
) -> Iterator[Finding]:
    """Devices on one link must configure it alike; each is compared with the link's first."""
    first: dict[str, int] = {}
    for d, factory in factories.items():
        if not isinstance(factory, SharesLinks):
            continue
        device = config.devices[d]
        link = factory.link_of(device)
        if link is None:
            continue
        if link.name not in first:
            first[link.name] = d
            continue
        owner = config.devices[first[link.name]]
        for key in link.settings:
            mine, theirs = getattr(device, key), getattr(owner, key)
            if mine == theirs:
                continue
            where = refer_to(("devices", first[link.name]), line_of)
            yield Finding(
                ("devices", d, key),
                f"{key} {_setting(key, mine)} differs from {_setting(key, theirs)} of device "
                f"{owner.id!r} ({where}), which shares {link.name}",
            )


def _setting(key: str, value: object) -> str:
    if key == "timeout" and isinstance(value, float):
        return format_duration(value)
    return repr(value) if isinstance(value, str) else str(value)
