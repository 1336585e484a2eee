"""The drivers' whole-station checks: driver names through the registry, the hooks a driver
class offers (its devices' settings, the links they share), and request limits."""

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from pstg.config.checks import Finding
from pstg.config.models import DeviceConfig, StationConfig
from pstg.drivers.base import DriverContext
from pstg.drivers.checks import ChecksDevices, SharedLink, SharesLinks, check_drivers
from pstg.drivers.modbus import ModbusRtuDriver, ModbusRtuOverTcpDriver, ModbusTcpDriver
from pstg.drivers.registry import register_driver, unregister_driver


def station(*devices: dict[str, Any]) -> StationConfig:
    return StationConfig.model_validate({"station": {"id": "ps-01"}, "devices": list(devices)})


def no_lines(loc: Any) -> None:
    return None


class OpcUaDriver:
    """A third-party driver with both hooks: a required option, and one link per server."""

    def __init__(self, device: DeviceConfig, context: DriverContext) -> None:
        raise AssertionError("checks never create a driver")

    @classmethod
    def check_device(cls, device: DeviceConfig) -> Iterator[Finding]:
        if "endpoint" not in device.options:
            yield Finding(("options",), "an opcua device needs options.endpoint")

    @classmethod
    def link_of(cls, device: DeviceConfig) -> SharedLink:
        return SharedLink(f"opc.tcp://{device.host}", ("timeout",))


@pytest.fixture
def opcua() -> Iterator[None]:
    register_driver("opcua", OpcUaDriver)  # type: ignore[arg-type]
    yield
    unregister_driver("opcua")


def test_the_builtin_drivers_offer_their_hooks():
    for driver in (ModbusTcpDriver, ModbusRtuOverTcpDriver, ModbusRtuDriver):
        assert isinstance(driver, SharesLinks)
    assert isinstance(ModbusRtuDriver, ChecksDevices)
    assert not isinstance(ModbusTcpDriver, ChecksDevices)


def test_a_clean_station_has_no_findings():
    config = station({"id": "plc1", "tags": [{"name": "a", "source": "coil", "address": 0}]})
    assert check_drivers(config, no_lines) == []


def test_an_unknown_driver_is_named_at_its_key():
    (finding,) = check_drivers(station({"id": "plc1", "driver": "opcua"}), no_lines)
    assert finding.loc == ("devices", 0, "driver")
    assert finding.message.startswith("unknown driver 'opcua' (available: modbus-rtu, ")


@pytest.mark.usefixtures("opcua")
def test_a_registered_driver_checks_its_own_devices():
    config = station(
        {"id": "a", "driver": "opcua", "options": {"endpoint": "/"}},
        {"id": "b", "driver": "opcua"},
    )
    assert check_drivers(config, no_lines) == [
        Finding(("devices", 1, "options"), "an opcua device needs options.endpoint")
    ]


@pytest.mark.usefixtures("opcua")
def test_a_registered_driver_names_the_links_its_devices_share():
    config = station(
        {"id": "a", "driver": "opcua", "options": {"endpoint": "/"}, "timeout": "1s"},
        {"id": "b", "driver": "opcua", "options": {"endpoint": "/"}, "timeout": "2s"},
    )
    assert check_drivers(config, lambda loc: 4) == [
        Finding(
            ("devices", 1, "timeout"),
            "timeout 2s differs from 1s of device 'a' (devices[0], line 4), which shares "
            "opc.tcp://127.0.0.1",
        )
    ]


def test_a_driver_that_cannot_be_loaded_is_a_finding(monkeypatch):
    from pstg.drivers import registry

    def broken(name: str) -> Any:
        raise registry.DriverLoadError(f"driver {name!r} (vendor.driver:Driver) cannot be loaded")

    monkeypatch.setattr(registry, "_load", broken)
    monkeypatch.setattr("pstg.drivers.checks.driver_factory", broken)
    (finding,) = check_drivers(station({"id": "plc1"}), no_lines)
    assert finding == Finding(
        ("devices", 0, "driver"),
        "driver 'modbus-tcp' (vendor.driver:Driver) cannot be loaded",
    )


def test_devices_on_different_links_may_differ():
    config = station(
        {"id": "a", "port": 502, "timeout": "1s"},
        {"id": "b", "port": 503, "timeout": "2s"},
        {"id": "c", "driver": "modbus-rtu", "serial_port": "/dev/ttyUSB0", "baudrate": 9600},
        {"id": "d", "driver": "modbus-rtu", "serial_port": "/dev/ttyUSB1", "baudrate": 19200},
    )
    assert check_drivers(config, no_lines) == []


def test_ipv6_hosts_are_named_in_brackets():
    config = station(
        {"id": "a", "host": "::1", "port": 5020, "timeout": "1s"},
        {"id": "b", "host": "::1", "port": 5020, "timeout": "2s"},
    )
    (finding,) = check_drivers(config, no_lines)
    assert finding.message.endswith("which shares [::1]:5020")


@pytest.mark.parametrize(
    ("tags", "limit", "expected"),
    [
        ([("float32", None)], 2, []),
        ([("float64", None)], 3, [3]),
        ([("string", 10), ("uint16", None)], 9, [3]),
    ],
)
def test_each_tag_must_fit_one_request(
    tags: Sequence[tuple[str, int | None]], limit: int, expected: list[int]
):
    # Address 0..2 hold three one-register tags, so the tags under test start at index 3.
    small = [{"name": f"s{n}", "source": "holding_register", "address": n} for n in range(3)]
    wide = [
        {"name": f"w{n}", "source": "holding_register", "address": 10 + 10 * n, "type": kind}
        | ({"length": length} if length else {})
        for n, (kind, length) in enumerate(tags)
    ]
    config = station({"id": "plc1", "max_registers_per_request": limit, "tags": small + wide})
    found = check_drivers(config, no_lines)
    assert [finding.loc[3] for finding in found] == expected
    assert all(f.message.endswith("; raise max_registers_per_request") for f in found)
