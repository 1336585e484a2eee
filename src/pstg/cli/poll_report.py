"""What `pstg poll` found, decoded in one or every word/byte order, and the two ways it prints
it: tables for a person, JSON for a script.

The JSON shape is a contract (docs/drivers.md, "Commissioning with pstg poll"): keys are only
ever added, and `format` names its version.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pstg.cli.app import fail, stdout
from pstg.model import DataType, Endian, RegisterTable

JSON_FORMAT = "pstg.poll/1"

ORDER_NAMES = {
    (Endian.BIG, Endian.BIG): "ABCD (word big, byte big)",
    (Endian.LITTLE, Endian.BIG): "CDAB (word little, byte big)",
    (Endian.BIG, Endian.LITTLE): "BADC (word big, byte little)",
    (Endian.LITTLE, Endian.LITTLE): "DCBA (word little, byte little)",
}

Value = int | float | str


@dataclass(frozen=True, slots=True)
class Decoding:
    """The registers read, decoded in one word/byte order: (address, value or None, text)."""

    word_order: Endian
    byte_order: Endian
    multiword: bool
    values: list[tuple[int, Value | None, str]]

    @property
    def label(self) -> str:
        if self.multiword:
            return ORDER_NAMES[(self.word_order, self.byte_order)]
        return f"byte {self.byte_order.value}"


@dataclass(slots=True)
class WriteOutcome:
    """A `--write`: what went out, and whether reading it back found it there."""

    value: str
    """The value as given on the command line."""
    data_type: DataType | None  # None for a coil
    word_order: Endian | None
    byte_order: Endian | None
    words: list[int]
    """The registers (or the coil bit) sent, in one request."""
    function_code: int
    rtt: float | None = None
    confirmed: bool | None = None
    """True: the read-back equals `words`; False: it differs; None: not read back."""


@dataclass(frozen=True, slots=True)
class PollError:
    kind: str
    message: str
    exit_status: int


@dataclass(slots=True)
class PollReport:
    """Everything one `pstg poll` did, successful or not."""

    target: str
    driver: str
    unit: int
    serial: dict[str, Any] | None
    """The serial settings used (port, baudrate, parity, stopbits, bytesize), for modbus-rtu."""
    table: RegisterTable
    address: int
    count: int
    data_type: DataType | None = None
    words: list[int] | None = None
    """Registers (0..65535) or bits (0/1) read; after a write, the read-back."""
    connect_time: float | None = None
    rtt: float | None = None
    decodings: list[Decoding] = field(default_factory=list)
    write: WriteOutcome | None = None
    error: PollError | None = None

    @property
    def span(self) -> str:
        end = self.address + self.count - 1
        return f"{self.address}..{end}" if end != self.address else str(self.address)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def _json_value(value: Value | None) -> Value | None:
    # JSON has no NaN or infinity: those become null, like values that cannot be decoded.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(report: PollReport) -> str:
    """The documented JSON shape of one poll."""
    write = report.write
    document: dict[str, Any] = {
        "format": JSON_FORMAT,
        "ok": report.error is None and (write is None or write.confirmed is not False),
        "target": report.target,
        "driver": report.driver,
        "unit": report.unit,
        "serial": report.serial,
        "source": report.table.value,
        "address": report.address,
        "count": report.count,
        "type": None if report.data_type is None else report.data_type.value,
        "values": report.words,
        "connect_ms": _ms(report.connect_time),
        "rtt_ms": _ms(report.rtt),
        "decoded": [
            {
                "word_order": decoding.word_order.value,
                "byte_order": decoding.byte_order.value,
                "values": [
                    {"address": address, "value": _json_value(value)}
                    for address, value, _ in decoding.values
                ],
            }
            for decoding in report.decodings
        ],
        "write": None,
        "error": None,
    }
    if write is not None:
        document["write"] = {
            "value": write.value,
            "type": None if write.data_type is None else write.data_type.value,
            "word_order": None if write.word_order is None else write.word_order.value,
            "byte_order": None if write.byte_order is None else write.byte_order.value,
            "values": write.words,
            "function_code": write.function_code,
            "rtt_ms": _ms(write.rtt),
            "confirmed": write.confirmed,
        }
    if report.error is not None:
        document["error"] = {
            "kind": report.error.kind,
            "message": report.error.message,
            "exit_status": report.error.exit_status,
        }
    return json.dumps(document, indent=2, allow_nan=False)


def print_text(report: PollReport) -> None:
    """Tables and one-line summaries for a person at a terminal (errors go to stderr apart)."""
    write = report.write
    if write is not None and write.rtt is not None:
        stdout.print(_describe_write(report, write))
    if report.words is None:
        return
    _print_raw(report.table, report.address, report.words)
    for table in _decoded_tables(report):
        stdout.print(table)
    if write is not None and write.confirmed is not None:
        verdict = "confirmed" if write.confirmed else "NOT confirmed: the device holds other values"
        stdout.print(f"read back: {verdict}")
    if report.rtt is not None:
        connect = "" if report.connect_time is None else f", connect {_ms(report.connect_time)} ms"
        stdout.print(f"round trip {_ms(report.rtt)} ms{connect}")


def _describe_write(report: PollReport, write: WriteOutcome) -> str:
    if write.data_type is None:
        what = f"coil {report.address} = {write.words[0]}"
    else:
        orders = f"byte order {(write.byte_order or Endian.BIG).value}"
        if len(write.words) > 1 and write.data_type is not DataType.STRING:
            orders = f"word order {(write.word_order or Endian.BIG).value}, {orders}"
        registers = " ".join(f"0x{word:04X}" for word in write.words)
        what = (
            f"{write.value} as {write.data_type.value} ({orders}) = {registers} "
            f"to {report.table.value} {report.span}"
        )
    return (
        f"wrote {what} of unit {report.unit} with function {write.function_code} "
        f"in {_ms(write.rtt)} ms"
    )


def _print_raw(table: RegisterTable, address: int, words: Sequence[int]) -> None:
    from rich.table import Table

    end = address + len(words) - 1
    raw = Table(
        title=f"{table.value} {address}..{end}" if end > address else f"{table.value} {address}"
    )
    raw.add_column("address", justify="right")
    if table.is_bit_table:
        raw.add_column("bit", justify="right")
        for offset, bit in enumerate(words):
            raw.add_row(str(address + offset), str(bit))
    else:
        for heading in ("hex", "uint16", "int16", "bits 15..0"):
            raw.add_column(heading, justify="right")
        for offset, word in enumerate(words):
            signed = word - 0x10000 if word & 0x8000 else word
            bits = f"{word:016b}"
            raw.add_row(
                str(address + offset),
                f"0x{word:04X}",
                str(word),
                str(signed),
                " ".join(bits[i : i + 4] for i in range(0, 16, 4)),
            )
    stdout.print(raw)


def _decoded_tables(report: PollReport) -> list[Any]:
    from rich.table import Table

    if not report.decodings or report.data_type is None:
        return []
    table = Table(title=f"decoded as {report.data_type.value}")
    table.add_column("order")
    for address, _, _ in report.decodings[0].values:
        table.add_column(f"@{address}", justify="right")
    for decoding in report.decodings:
        table.add_row(decoding.label, *(text for _, _, text in decoding.values))
    return [table]


def decode(
    words: list[int],
    address: int,
    data_type: DataType,
    word_order: Endian | None,
    byte_order: Endian | None,
) -> list[Decoding]:
    """`words` decoded as `data_type`: in the given order, or in every order when none is."""
    from pstg.codec import CodecError, decode_words

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
    decodings = []
    for word in word_orders:
        for byte in byte_orders:
            values: list[tuple[int, int | float | str | None, str]] = []
            for start in range(0, len(words) - width + 1, width):
                chunk = words[start : start + width]
                try:
                    value = decode_words(chunk, data_type, word_order=word, byte_order=byte)
                except CodecError as exc:
                    values.append((address + start, None, f"({exc})"))
                else:
                    values.append((address + start, value, _format_value(value)))
            decodings.append(Decoding(word, byte, multiword, values))
    return decodings


def _format_value(value: int | float | str) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float):
        return f"{value:.9g}"
    return str(value)
