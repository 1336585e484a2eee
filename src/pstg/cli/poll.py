"""`pstg poll`: the field engineer's one-shot read.

Prints the raw registers in hex and decimal and, for a 32/64-bit type without a given word
order, the value decoded in every word/byte order, so a wrong order is spotted in seconds.
Each failure kind has its own exit status so scripts can tell them apart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from pstg.cli.app import app, fail, one_line_errors, stdout

# Light: an enum over pstg.model, needed for EXIT_STATUS; no driver or pymodbus code.
from pstg.drivers.errors import FailureKind
from pstg.model import DataType, Endian, RegisterTable

if TYPE_CHECKING:
    from pstg.config.models import DeviceConfig
    from pstg.drivers.planner import ReadBlock

EXIT_STATUS = {
    FailureKind.CONNECT_FAILED: 3,
    FailureKind.CONNECTION_LOST: 3,
    FailureKind.TIMEOUT: 4,
    FailureKind.DEVICE_EXCEPTION: 5,
    FailureKind.MALFORMED_RESPONSE: 6,
}

ORDER_NAMES = {
    (Endian.BIG, Endian.BIG): "ABCD (word big, byte big)",
    (Endian.LITTLE, Endian.BIG): "CDAB (word little, byte big)",
    (Endian.BIG, Endian.LITTLE): "BADC (word big, byte little)",
    (Endian.LITTLE, Endian.LITTLE): "DCBA (word little, byte little)",
}


@app.command()
def poll(
    target: Annotated[
        str,
        typer.Argument(
            help="HOST[:PORT] of the device or gateway (port 502 by default); "
            "with --driver modbus-rtu, the serial port such as /dev/ttyUSB0."
        ),
    ],
    unit: Annotated[int, typer.Option("--unit", "-u", min=0, max=255, help="Unit (slave) id.")] = 1,
    source: Annotated[
        RegisterTable, typer.Option("--source", "-s", help="Register table to read.")
    ] = RegisterTable.HOLDING_REGISTER,
    address: Annotated[
        int, typer.Option("--address", "-a", min=0, max=65535, help="Zero-based address.")
    ] = 0,
    count: Annotated[
        int, typer.Option("--count", "-n", min=1, max=2000, help="Registers (or bits) to read.")
    ] = 1,
    data_type: Annotated[
        DataType | None,
        typer.Option("--type", "-t", help="Decode the registers as this type."),
    ] = None,
    word_order: Annotated[
        Endian | None,
        typer.Option(help="Word order for 32/64-bit types; without it every order is shown."),
    ] = None,
    byte_order: Annotated[
        Endian | None, typer.Option(help="Byte order within a register (default: big).")
    ] = None,
    driver: Annotated[
        str,
        typer.Option(help="modbus-tcp, modbus-rtu-over-tcp (serial gateway) or modbus-rtu."),
    ] = "modbus-tcp",
    timeout: Annotated[float, typer.Option(min=0.01, help="Seconds to wait for an answer.")] = 2.0,
    baudrate: Annotated[int, typer.Option(help="Serial speed (modbus-rtu).")] = 9600,
) -> None:
    """Read registers once and print them raw and decoded, or say plainly why it failed.

    Exit status: 0 read, 1 other error, 3 connection failed, 4 timeout,
    5 Modbus exception, 6 malformed response.
    """
    from pstg.drivers.planner import ReadBlock

    if not source.is_bit_table and count > 125:
        fail("at most 125 registers per request")
    if address + count - 1 > 65535:
        fail(f"address {address} + count {count} runs past register 65535")
    device = _device(target, driver=driver, unit=unit, timeout=timeout, baudrate=baudrate)
    block = ReadBlock(source, address, count, ())
    with one_line_errors():
        words = asyncio.run(_read_once(device, block))
    _print_raw(block, words)
    if data_type is not None and not source.is_bit_table:
        _print_decoded(words, address, data_type, word_order, byte_order)


def _device(target: str, *, driver: str, unit: int, timeout: float, baudrate: int) -> DeviceConfig:
    from pstg.config.models import DeviceConfig

    fields: dict[str, object] = {
        "id": "poll",
        "driver": driver,
        "unit_id": unit,
        "timeout": timeout,
        "baudrate": baudrate,
    }
    if driver == "modbus-rtu":
        fields["serial_port"] = target
    else:
        host, _, port = target.rpartition(":") if ":" in target else (target, "", "502")
        if not port.isdigit() or not 0 < int(port) < 65536:
            fail(f"invalid port in {target!r}: expected HOST[:PORT] with PORT 1..65535")
        fields.update(host=host.strip("[]"), port=int(port))
    try:
        return DeviceConfig.model_validate(fields)
    except ValueError as exc:
        fail(f"invalid target {target!r}: {exc}")


async def _read_once(device: DeviceConfig, block: ReadBlock) -> Sequence[int]:
    from pstg.drivers.base import DriverContext
    from pstg.drivers.errors import DriverError
    from pstg.drivers.registry import create_driver

    context = DriverContext()
    client = create_driver(device, context)
    where = device.serial_port if device.driver == "modbus-rtu" else f"{device.host}:{device.port}"
    try:
        await client.connect()
        return await client.read(block)
    except DriverError as exc:
        fail(f"{exc.kind.value}: {exc} [{where}, unit {device.unit_id}]", EXIT_STATUS[exc.kind])
    finally:
        await client.close()
        await context.aclose()


def _print_raw(block: ReadBlock, words: Sequence[int]) -> None:
    from rich.table import Table

    table = Table(title=f"{block.table.value} {block.address}..{block.end_address}")
    table.add_column("address", justify="right")
    if block.table.is_bit_table:
        table.add_column("bit", justify="right")
        for offset, bit in enumerate(words):
            table.add_row(str(block.address + offset), str(bit))
    else:
        for heading in ("hex", "uint16", "int16", "bits 15..0"):
            table.add_column(heading, justify="right")
        for offset, word in enumerate(words):
            signed = word - 0x10000 if word & 0x8000 else word
            bits = f"{word:016b}"
            table.add_row(
                str(block.address + offset),
                f"0x{word:04X}",
                str(word),
                str(signed),
                " ".join(bits[i : i + 4] for i in range(0, 16, 4)),
            )
    stdout.print(table)


def _print_decoded(
    words: Sequence[int],
    address: int,
    data_type: DataType,
    word_order: Endian | None,
    byte_order: Endian | None,
) -> None:
    from rich.table import Table

    from pstg.codec import decode_words
    from pstg.codec.errors import CodecError

    width = data_type.fixed_register_count or len(words)  # a string takes all that was read
    if len(words) < width:
        fail(f"{data_type.value} needs {width} registers; read {len(words)} (raise --count)")
    multiword = width > 1 and data_type is not DataType.STRING
    if word_order is None and multiword:
        word_orders = list(Endian)
        byte_orders = [byte_order] if byte_order else list(Endian)
    else:
        word_orders = [word_order or Endian.BIG]
        byte_orders = [byte_order or Endian.BIG]
    starts = range(0, len(words) - width + 1, width)
    table = Table(title=f"decoded as {data_type.value}")
    table.add_column("order")
    for start in starts:
        table.add_column(f"@{address + start}", justify="right")
    for word in word_orders:
        for byte in byte_orders:
            row = [ORDER_NAMES[(word, byte)] if multiword else f"byte {byte.value}"]
            for start in starts:
                chunk = words[start : start + width]
                try:
                    value = decode_words(chunk, data_type, word_order=word, byte_order=byte)
                except CodecError as exc:
                    row.append(f"({exc})")
                else:
                    row.append(_format_value(value))
            table.add_row(*row)
    stdout.print(table)


def _format_value(value: int | float | str) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float):
        return f"{value:.9g}"
    return str(value)
