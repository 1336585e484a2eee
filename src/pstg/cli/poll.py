"""`pstg poll`: the field engineer's one-shot read (and, with --write, write) for commissioning.

Prints the raw registers in hex and decimal and, for a 32/64-bit type without a given word
order, the value decoded in every word/byte order, so a wrong order is spotted in seconds; the
measured round trip; with --json the same as one JSON document (see poll_report). Each failure
kind has its own exit status so scripts can tell them apart.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from pstg.cli.app import app, fail, one_line_errors

# Light: an enum over pstg.model, needed for EXIT_STATUS; no driver or pymodbus code.
from pstg.drivers.errors import FailureKind
from pstg.model import DataType, Endian, RegisterTable

if TYPE_CHECKING:
    from pstg.cli.poll_report import PollError, PollReport, WriteOutcome
    from pstg.config.models import DeviceConfig
    from pstg.drivers.base import Driver

EXIT_STATUS = {
    FailureKind.CONNECT_FAILED: 3,
    FailureKind.CONNECTION_LOST: 3,
    FailureKind.TIMEOUT: 4,
    FailureKind.DEVICE_EXCEPTION: 5,
    FailureKind.MALFORMED_RESPONSE: 6,
}
NOT_CONFIRMED = 7
"""Exit status when a --write went through but reading it back found other values."""

SERIAL_DRIVER = "modbus-rtu"
# What --driver defaults to for these targets: a device path, a Windows port, a pyserial URL.
_SERIAL_TARGET = re.compile(r"^(/dev/|COM\d+$|[a-z0-9]+://)", re.IGNORECASE)
_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"0", "false", "off", "no"}


class Parity(StrEnum):
    N = "N"
    E = "E"
    O = "O"  # noqa: E741  (the letter is the setting's name)


@app.command()
def poll(
    target: Annotated[
        str,
        typer.Argument(
            help="HOST[:PORT] of the device or gateway (port 502 by default), or the serial "
            "port for modbus-rtu: /dev/ttyUSB0, COM3 or a pyserial URL."
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
        int | None,
        typer.Option(
            "--count",
            "-n",
            min=1,
            max=2000,
            help="Registers (or bits) to read (default 1; with --write, the value's size).",
            show_default=False,
        ),
    ] = None,
    data_type: Annotated[
        DataType | None,
        typer.Option("--type", "-t", help="Decode (or --write) the registers as this type."),
    ] = None,
    word_order: Annotated[
        Endian | None,
        typer.Option(
            help="Word order for 32/64-bit types; without it every order is shown. "
            "Required to --write such a type."
        ),
    ] = None,
    byte_order: Annotated[
        Endian | None, typer.Option(help="Byte order within a register (default: big).")
    ] = None,
    driver: Annotated[
        str | None,
        typer.Option(
            help="modbus-tcp, modbus-rtu-over-tcp (serial gateway) or modbus-rtu (serial port). "
            "Default: modbus-rtu when TARGET is a serial port, else modbus-tcp.",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(min=0.01, help="Seconds to wait for an answer.")] = 2.0,
    baudrate: Annotated[
        int | None,
        typer.Option(min=1, help="Serial speed (modbus-rtu); default as in station.yaml: 9600."),
    ] = None,
    parity: Annotated[
        Parity | None,
        typer.Option(
            help="Serial parity (modbus-rtu); default as in station.yaml: E, the Modbus "
            "serial line default.",
        ),
    ] = None,
    stopbits: Annotated[
        int | None,
        typer.Option(min=1, max=2, help="Stop bits (modbus-rtu); default as in station.yaml: 1."),
    ] = None,
    bytesize: Annotated[
        int | None,
        typer.Option(min=7, max=8, help="Data bits (modbus-rtu); default as in station.yaml: 8."),
    ] = None,
    write: Annotated[
        str | None,
        typer.Option(
            "--write",
            metavar="VALUE",
            help="Write VALUE first (a holding register, encoded as --type, one request even "
            "for 32/64-bit values; or a coil: 1/0, on/off), then read it back.",
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Write without asking for confirmation.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document (see docs/drivers.md).")
    ] = False,
) -> None:
    """Read registers once (or write one value and read it back) and print them raw and decoded
    with the measured round trip, or say plainly why it failed.

    Exit status: 0 done, 1 other error, 3 connection failed, 4 timeout, 5 Modbus exception,
    6 malformed response, 7 written but the read-back differs.
    """
    from pstg.cli.poll_report import PollReport, decode, print_text, to_json

    driver = driver or (SERIAL_DRIVER if _SERIAL_TARGET.match(target) else "modbus-tcp")
    serial: dict[str, object] = {
        "baudrate": baudrate,
        "parity": None if parity is None else parity.value,
        "stopbits": stopbits,
        "bytesize": bytesize,
    }
    given = [f"--{name}" for name, value in serial.items() if value is not None]
    if given and driver != SERIAL_DRIVER:
        fail(
            f"{', '.join(given)} set a serial port (--driver modbus-rtu); a converter behind "
            f"{driver} keeps its own serial settings"
        )
    planned = None
    if write is not None:
        planned = _plan_write(write, source, address, data_type, word_order, byte_order, count)
        count = len(planned.words)
    count = count or 1
    if not source.is_bit_table and count > 125:
        fail("at most 125 registers per request")
    if address + count - 1 > 65535:
        fail(f"address {address} + count {count} runs past register 65535")
    device = _device(target, driver=driver, unit=unit, timeout=timeout, serial=serial)
    report = PollReport(
        target=target,
        driver=driver,
        unit=unit,
        serial=_serial_settings(device),
        table=source,
        address=address,
        count=count,
        data_type=data_type,
        write=planned,
    )
    if planned is not None and not yes:
        _confirm(report, planned.value)
    with one_line_errors():
        asyncio.run(_poll_once(device, report))
    if report.words is not None and data_type is not None and not source.is_bit_table:
        if write is not None:  # show the read-back in the order it was written in
            word_order, byte_order = word_order or Endian.BIG, byte_order or Endian.BIG
        report.decodings = decode(report.words, address, data_type, word_order, byte_order)
    if as_json:
        typer.echo(to_json(report))
    else:
        print_text(report)
    if report.error is not None:
        fail(report.error.message, report.error.exit_status)
    if report.write is not None and report.write.confirmed is False:
        fail(
            f"not confirmed: wrote {report.write.words}, read back {report.words}",
            NOT_CONFIRMED,
        )


def _device(
    target: str, *, driver: str, unit: int, timeout: float, serial: dict[str, object]
) -> DeviceConfig:
    from pstg.config.models import DeviceConfig

    fields: dict[str, object] = {
        "id": "poll",
        "driver": driver,
        "unit_id": unit,
        "timeout": timeout,
    }
    if driver == SERIAL_DRIVER:
        fields["serial_port"] = target
        # Only what was given: the rest keeps the config's defaults, so poll and station.yaml
        # agree on what an unset serial setting means.
        fields.update({name: value for name, value in serial.items() if value is not None})
    else:
        host, _, port = target.rpartition(":") if ":" in target else (target, "", "502")
        if not port.isdigit() or not 0 < int(port) < 65536:
            fail(f"invalid port in {target!r}: expected HOST[:PORT] with PORT 1..65535")
        fields.update(host=host.strip("[]"), port=int(port))
    try:
        return DeviceConfig.model_validate(fields)
    except ValueError as exc:
        fail(f"invalid target {target!r}: {exc}")


def _serial_settings(device: DeviceConfig) -> dict[str, object] | None:
    if device.driver != SERIAL_DRIVER:
        return None
    return {
        "port": device.serial_port,
        "baudrate": device.baudrate,
        "parity": device.parity,
        "stopbits": device.stopbits,
        "bytesize": device.bytesize,
    }


def _plan_write(
    text: str,
    table: RegisterTable,
    address: int,
    data_type: DataType | None,
    word_order: Endian | None,
    byte_order: Endian | None,
    count: int | None,
) -> WriteOutcome:
    """What --write VALUE sends: the registers (or coil bit) and the one request carrying them."""
    from pstg.cli.poll_report import WriteOutcome
    from pstg.codec import CodecError, encode_value
    from pstg.drivers.modbus.functions import write_request

    if not table.is_writable:
        fail(f"a {table.value} is read-only: --write takes a holding_register or a coil")
    if table is RegisterTable.COIL:
        if data_type not in (None, DataType.BOOL):
            fail(f"a coil holds one bit: --type {data_type} does not apply")
        if count not in (None, 1):
            fail("--write sets one coil: leave --count out")
        bit = [_parse_bool(text)]
        function_code = write_request(table, address, bit).function_code  # FC5
        return WriteOutcome(text, None, None, None, bit, function_code=int(function_code))
    data_type = data_type or DataType.UINT16
    width = data_type.fixed_register_count
    multiword = width is not None and width > 1
    if multiword and word_order is None:
        fail(
            f"--write of a {data_type.value} spans {width} registers: give --word-order big or "
            "little (a guessed order writes a different number)"
        )
    byte_order = byte_order or Endian.BIG
    value = _parse_value(text, data_type)
    length = count if data_type is DataType.STRING else None
    try:
        words = encode_value(
            value,
            data_type,
            word_order=word_order or Endian.BIG,
            byte_order=byte_order,
            length=length,
        )
    except CodecError as exc:
        fail(f"cannot write {text!r} as {data_type.value}: {exc}")
    if count is not None and count != len(words):
        fail(
            f"--count {count} does not match: {text!r} as {data_type.value} is {len(words)} "
            "register(s); leave --count out with --write"
        )
    try:  # the request the driver sends: FC6 for one register, FC16 (one request) for more
        request = write_request(table, address, words)
    except ValueError as exc:  # past register 65535, or more than one request can carry
        fail(f"cannot write {text!r} as {data_type.value} at {address}: {exc}")
    return WriteOutcome(
        text,
        data_type,
        word_order if multiword else None,
        byte_order,
        words,
        function_code=int(request.function_code),
    )


def _parse_value(text: str, data_type: DataType) -> int | float | str:
    if data_type is DataType.STRING:
        return text
    if data_type is DataType.BOOL:
        return _parse_bool(text)
    if data_type in (DataType.FLOAT32, DataType.FLOAT64):
        try:
            return float(text)
        except ValueError:
            fail(f"--write {text!r}: not a number")
    try:
        return int(text, 0)  # 0x1F and 0b101 too
    except ValueError:
        fail(f"--write {text!r}: not an integer (a {data_type.value} holds whole numbers)")


def _parse_bool(text: str) -> int:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return 1
    if lowered in _FALSE:
        return 0
    fail(f"--write {text!r}: a bit takes 1/0, on/off or true/false")


def _confirm(report: PollReport, text: str) -> None:
    what = f"{text} to {report.table.value} {report.address} of unit {report.unit}"
    if not sys.stdin.isatty():
        fail(f"--write changes the device ({what}): add --yes to confirm, there is no terminal")
    if not typer.confirm(f"write {what} at {report.target}?", err=True):
        raise typer.Exit(1)


async def _poll_once(device: DeviceConfig, report: PollReport) -> None:
    """Connect, write `report.write` if planned, read; fills `report` (its error on failure)."""
    from pstg.drivers.base import DriverContext
    from pstg.drivers.errors import DriverError
    from pstg.drivers.registry import create_driver

    context = DriverContext()
    client = create_driver(device, context)
    step = "connect"
    try:
        began = time.perf_counter()
        await client.connect()
        report.connect_time = time.perf_counter() - began
        write = report.write
        if write is not None:
            step = "write"
            began = time.perf_counter()
            await client.write(report.table, report.address, write.words)
            write.rtt = time.perf_counter() - began
            step = "read-back"
        await _read(client, report)
        if write is not None:
            write.confirmed = report.words == write.words
    except DriverError as exc:
        where = device.serial_port or f"{device.host}:{device.port}"
        message = f"{exc.kind.value}: {exc} [{where}, unit {device.unit_id}]"
        if step == "read-back":
            message = f"written, but the read-back failed: {message}"
        report.error = _error(exc.kind, message)
    finally:
        await client.close()
        await context.aclose()


async def _read(client: Driver, report: PollReport) -> None:
    from pstg.drivers.planner import ReadBlock

    block = ReadBlock(report.table, report.address, report.count, ())
    began = time.perf_counter()
    words = await client.read(block)
    report.rtt = time.perf_counter() - began
    report.words = list(words)


def _error(kind: FailureKind, message: str) -> PollError:
    from pstg.cli.poll_report import PollError

    return PollError(kind.value, message, EXIT_STATUS[kind])
