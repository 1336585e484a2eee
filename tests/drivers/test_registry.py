"""The driver registry: built-ins come from entry points, fakes can be put behind the seam."""

from collections.abc import Iterator, Sequence

import pytest

from pstg.config.models import DeviceConfig
from pstg.drivers.base import ConnectionState, Driver, DriverContext
from pstg.drivers.modbus import ModbusRtuDriver, ModbusRtuOverTcpDriver, ModbusTcpDriver
from pstg.drivers.planner import ReadBlock
from pstg.drivers.registry import (
    UnknownDriverError,
    available_drivers,
    create_driver,
    register_driver,
    unregister_driver,
)
from pstg.model import RegisterTable

BUILT_IN = {
    "modbus-tcp": ModbusTcpDriver,
    "modbus-rtu": ModbusRtuDriver,
    "modbus-rtu-over-tcp": ModbusRtuOverTcpDriver,
}


class FakeDriver:
    """Answers every read with zeros; what a poller test would register."""

    def __init__(self, device: DeviceConfig, context: DriverContext) -> None:
        self.device = device
        self.state = ConnectionState.DISCONNECTED

    async def connect(self) -> None:
        self.state = ConnectionState.CONNECTED

    async def read(self, block: ReadBlock, *, urgent: bool = False) -> Sequence[int]:
        return [0] * block.count

    async def write(self, table: RegisterTable, address: int, values: Sequence[int]) -> None:
        pass

    async def close(self) -> None:
        self.state = ConnectionState.DISCONNECTED


@pytest.fixture
def fake_registered() -> Iterator[str]:
    register_driver("fake", FakeDriver)
    yield "fake"
    unregister_driver("fake")


def device(driver: str) -> DeviceConfig:
    return DeviceConfig(id="plc1", driver=driver, serial_port="/dev/null")


def test_built_in_drivers_are_found_through_entry_points():
    assert set(BUILT_IN) <= available_drivers()


@pytest.mark.parametrize(("name", "cls"), BUILT_IN.items())
async def test_create_built_in_driver(name, cls):
    context = DriverContext()
    driver = create_driver(device(name), context)
    assert type(driver) is cls
    assert isinstance(driver, Driver)
    assert driver.state is ConnectionState.DISCONNECTED
    await context.aclose()


def test_unknown_driver_lists_the_known_ones():
    with pytest.raises(UnknownDriverError) as caught:
        create_driver(device("modbus-udp"), DriverContext())
    message = str(caught.value)
    assert "unknown driver 'modbus-udp'" in message
    assert all(name in message for name in BUILT_IN)
    assert isinstance(caught.value, ValueError)


async def test_a_registered_fake_is_created_by_name(fake_registered):
    assert fake_registered in available_drivers()
    driver = create_driver(device(fake_registered), DriverContext())
    assert isinstance(driver, FakeDriver)
    assert isinstance(driver, Driver)
    await driver.connect()
    block = ReadBlock(RegisterTable.HOLDING_REGISTER, 0, 3, tags=())
    assert await driver.read(block) == [0, 0, 0]


def test_a_registered_factory_shadows_an_entry_point_until_unregistered():
    register_driver("modbus-tcp", FakeDriver)
    try:
        assert isinstance(create_driver(device("modbus-tcp"), DriverContext()), FakeDriver)
    finally:
        unregister_driver("modbus-tcp")
    assert isinstance(create_driver(device("modbus-tcp"), DriverContext()), ModbusTcpDriver)


def test_unregistered_fake_is_unknown_again():
    register_driver("fake", FakeDriver)
    unregister_driver("fake")
    assert "fake" not in available_drivers()
    with pytest.raises(UnknownDriverError):
        create_driver(device("fake"), DriverContext())
