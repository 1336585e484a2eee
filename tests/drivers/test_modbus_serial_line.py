"""modbus-rtu on a serial line: a pty pair with pymodbus's RTU server on the far end.

The line (tests/support/serial_line.py) passes bytes unchanged while both ends use the same
speed, parity and stop bits, and re-times them bit by bit like a UART when they do not. A pty
cannot hold parity itself: the ends are opened through the `uart://` URL, and a plain pty
shows what a port that refuses a setting does.
"""

import pytest
import serial

from pstg.config.models import DeviceConfig
from pstg.drivers.errors import ConnectFailed, MalformedResponse, RequestTimeout
from pstg.drivers.planner import ReadBlock
from pstg.model import QualityReason, RegisterTable
from tests.drivers.conftest import MakeDriver
from tests.drivers.test_modbus_failures import assert_ours
from tests.support.serial_line import CharFormat, SerialLine, SerialModbusServer

HR = RegisterTable.HOLDING_REGISTER
COIL = RegisterTable.COIL


def block(table: RegisterTable, address: int, count: int) -> ReadBlock:
    return ReadBlock(table, address, count, tags=())


@pytest.mark.parametrize("baudrate", [9600, 19200])
async def test_reads_and_writes_with_even_parity(
    serial_line: SerialLine, make_driver: MakeDriver, baudrate: int
):
    async with SerialModbusServer(
        serial_line.device_url, units=(3,), baudrate=baudrate, parity="E"
    ) as device:
        for table in RegisterTable:
            await device.set_values(3, table, 7, [1, 0, 1])
        driver = make_driver(
            "modbus-rtu",
            serial_port=serial_line.master_url,
            unit_id=3,
            baudrate=baudrate,
            parity="E",
        )

        for table in RegisterTable:
            assert list(await driver.read(block(table, 7, 3))) == [1, 0, 1]
        await driver.write(HR, 0, [0x4050, 0x0000, 65535])
        await driver.write(HR, 20, [42])
        await driver.write(COIL, 0, [1])
        await driver.write(COIL, 3, [1, 1])

        assert await device.get_values(3, HR, 0, 3) == [0x4050, 0x0000, 65535]
        assert await device.get_values(3, HR, 20, 1) == [42]
        assert await device.get_values(3, COIL, 0, 5) == [1, 0, 0, 1, 1]
        assert device.request_count(3, 16) == 1  # three registers, one request
        # What the driver's port was opened with, as the line saw it
        assert serial_line.master_formats() == {CharFormat(baudrate, 8, "E", 1)}


async def test_even_parity_is_the_default_as_the_modbus_serial_line_spec_says(
    serial_line: SerialLine, make_driver: MakeDriver
):
    assert DeviceConfig.model_fields["parity"].default == "E"
    async with SerialModbusServer(serial_line.device_url, parity="E") as device:
        await device.set_values(1, HR, 0, [1234])
        driver = make_driver("modbus-rtu", serial_port=serial_line.master_url)

        assert list(await driver.read(block(HR, 0, 1))) == [1234]
        assert serial_line.master_formats() == {CharFormat(9600, 8, "E", 1)}


async def test_wrong_parity_that_garbles_the_answer_is_reported_as_such(
    serial_line: SerialLine, make_driver: MakeDriver
):
    # The device is 8N1, the driver 8E1: the request's data bits arrive whole, the device
    # answers, and the driver's UART misreads the answer's back-to-back characters.
    async with SerialModbusServer(serial_line.device_url, parity="N") as device:
        driver = make_driver("modbus-rtu", serial_port=serial_line.master_url, parity="E")

        with pytest.raises(MalformedResponse) as caught:
            await driver.read(block(HR, 0, 2))
        assert device.request_count(1, 3) == 1  # the device did answer
    message = str(caught.value)
    assert "garbled" in message
    assert "baud rate, parity or stop bits" in message
    assert "this line: 9600 8E1" in message
    assert caught.value.quality_reason is QualityReason.MALFORMED_RESPONSE
    assert_ours(caught.value)


@pytest.mark.parametrize(
    ("driver_settings", "line_settings"),
    [
        ({"parity": "N"}, "9600 8N1"),  # an even-parity device drops the misread request
        ({"baudrate": 19200}, "19200 8E1"),  # a 9600 device reads noise
    ],
)
async def test_settings_the_device_cannot_read_are_a_timeout_naming_them(
    serial_line: SerialLine, make_driver: MakeDriver, driver_settings, line_settings
):
    # Where the device stays silent, nothing on the line tells a wrong setting from an absent
    # unit: the timeout says both.
    async with SerialModbusServer(serial_line.device_url, parity="E") as device:
        driver = make_driver("modbus-rtu", serial_port=serial_line.master_url, **driver_settings)

        with pytest.raises(RequestTimeout) as caught:
            await driver.read(block(HR, 0, 2))
        assert device.request_count() == 0
    message = str(caught.value)
    assert "may be off or have another id" in message
    assert f"baud rate or parity may differ from this line's {line_settings}" in message
    assert_ours(caught.value)


async def test_port_that_refuses_the_parity_fails_connect_naming_the_settings(
    serial_line: SerialLine, make_driver: MakeDriver
):
    # A plain pty cannot hold parity: the kernel clears PARENB and glibc reports EINVAL.
    driver = make_driver("modbus-rtu", serial_port=serial_line.master_port, parity="E")

    with pytest.raises(ConnectFailed) as caught:
        await driver.connect()
    assert str(caught.value) == (
        f"serial port {serial_line.master_port} refused the settings 9600 8E1: Invalid argument"
    )
    assert_ours(caught.value)


async def test_port_held_by_another_program_is_in_use(
    serial_line: SerialLine, make_driver: MakeDriver
):
    holder = serial.Serial(serial_line.master_port, exclusive=True)  # as pymodbus opens it
    try:
        driver = make_driver("modbus-rtu", serial_port=serial_line.master_port, parity="N")
        with pytest.raises(ConnectFailed) as caught:
            await driver.connect()
    finally:
        holder.close()
    assert str(caught.value) == (
        f"serial port {serial_line.master_port} is in use by another program"
    )


async def test_a_plain_pty_serves_8n1(serial_line: SerialLine, make_driver: MakeDriver):
    # The settings a pty can hold work without the uart:// URL, as `pstg poll` opens a port.
    async with SerialModbusServer(serial_line.device_url, parity="N", stopbits=2) as device:
        await device.set_values(1, HR, 5, [77])
        driver = make_driver(
            "modbus-rtu", serial_port=serial_line.master_port, parity="N", stopbits=2
        )

        assert list(await driver.read(block(HR, 5, 1))) == [77]
        assert serial_line.master_formats() == {CharFormat(9600, 8, "N", 2)}
