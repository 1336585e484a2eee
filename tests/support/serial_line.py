"""A serial line for tests: two pseudo-terminals joined by a relay that behaves like the wire.

The driver opens one end (`SerialLine.master_port`), a device — `SerialModbusServer`, pymodbus's
RTU server — the other (`device_port`). The relay runs in the test's event loop and copies the
bytes each end writes to the other end. The server serves only its `units`: requests to any
other unit id go unanswered, as on a real bus.

What a pty cannot do, and how the line makes up for it (Linux, glibc, pyserial 3.5):

- A pty keeps the speed and the stop bits a program sets, but the kernel forces 8 data bits and
  clears PARENB (`pty_set_termios`), and glibc's tcsetattr then reports EINVAL. pyserial opens
  the port, and its next reconfiguration (pymodbus sets `timeout = 0` right after opening) raises
  `termios.error`: a plain pty cannot be opened for even or odd parity, or for 7 data bits.
- So the ends are opened through the pyserial URL scheme `uart://PATH` (registered by this
  module, see `tests/support/serial_urls/protocol_uart.py`): it opens the pty as 8N with the
  requested speed and stop bits and records the parity and data bits the port was asked for.
  An end opened by plain path (a `pstg poll` subprocess) is read from its termios: 8N, its speed
  and stop bits.
- When both ends use the same character format, bytes pass unchanged. When they differ, each
  byte is re-timed bit by bit as a UART set to the receiving end's format samples it
  (`reframe`): that is what a wrong baud rate or parity does on a real wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import pty
import termios
import tty
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self

import serial
from pymodbus import FramerType
from pymodbus.server import ModbusBaseServer, ModbusSerialServer

from tests.support.modbus_server import ModbusTestServer

# pyserial looks up `<scheme>://` URLs as modules `protocol_<scheme>` in these packages.
if "tests.support.serial_urls" not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append("tests.support.serial_urls")

Parity = Literal["N", "E", "O"]

_SPEEDS = {
    getattr(termios, f"B{rate}"): rate
    for rate in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)
}


@dataclass(frozen=True, slots=True)
class CharFormat:
    """How one end frames a character: speed, data bits, parity, stop bits ("9600 8E1")."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: Parity = "N"
    stopbits: int = 1

    def __str__(self) -> str:
        return f"{self.baudrate} {self.bytesize}{self.parity}{self.stopbits}"

    @property
    def width(self) -> int:
        """Bits per character on the wire: start, data, parity, stop."""
        return 1 + self.bytesize + (self.parity != "N") + self.stopbits

    def bits(self, byte: int) -> list[int]:
        """The line levels of one character: start bit 0, data LSB first, parity, stop 1s."""
        data = [(byte >> index) & 1 for index in range(self.bytesize)]
        parity = []
        if self.parity != "N":
            ones = sum(data) % 2
            parity = [ones if self.parity == "E" else 1 - ones]
        return [0, *data, *parity] + [1] * self.stopbits


requested_formats: dict[str, CharFormat] = {}
"""The format each pty (by path) was last asked for through a `uart://` URL."""


def reframe(data: bytes, sent: CharFormat, heard: CharFormat) -> bytes:
    """The bytes a UART set to `heard` reads from `data` sent back to back in format `sent`.

    Model: the line idles high; a character starts at the first low level after the previous
    character's stop bit was sampled; every bit is sampled in its middle at the receiver's
    speed; the line idles after the last character. A parity or framing error does not drop
    the character: pyserial clears INPCK, and Linux then passes such a character on as it was
    sampled (n_tty_receive_parity_error). A character whose data bits were sampled right
    therefore arrives right, whatever its parity and stop bits did.
    """
    if sent == heard:
        return data
    wire = [level for byte in data for level in sent.bits(byte)]
    bit_time = sent.baudrate / heard.baudrate  # one received bit, in sent bits

    def level(at: float) -> int:
        index = math.floor(at)
        return wire[index] if index < len(wire) else 1

    received = bytearray()
    position = 0
    while True:
        start = next((i for i in range(position, len(wire)) if wire[i] == 0), None)
        if start is None:
            return bytes(received)
        value = 0
        for index in range(heard.bytesize):
            if level(start + (index + 1.5) * bit_time):
                value |= 1 << index
        received.append(value)
        last_stop_sample = start + (heard.width - 0.5) * bit_time
        position = math.floor(last_stop_sample) + 1


def _termios_format(fd: int) -> CharFormat:
    """What a pty's termios says: its speed and stop bits (8N: a pty holds nothing else)."""
    attributes = termios.tcgetattr(fd)
    cflag, speed = attributes[2], attributes[4]
    return CharFormat(_SPEEDS.get(speed, 0), 8, "N", 2 if cflag & termios.CSTOPB else 1)


class _End:
    """One pty of the line: the master the relay reads and writes, and its slave's path."""

    def __init__(self) -> None:
        self.master, self._slave = pty.openpty()
        # The relay's own open slave keeps the master readable (no EIO) while the program on
        # this end closes and reopens its port, and keeps the termios across reopens.
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self.bytes_in = 0
        """Bytes the program on this end wrote."""

    @property
    def format(self) -> CharFormat:
        requested = requested_formats.get(self.path)
        return requested if requested is not None else _termios_format(self.master)

    def close(self) -> None:
        requested_formats.pop(self.path, None)
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class SerialLine:
    """Two ptys joined like the two ends of a serial cable; see the module docstring.

    Use as `async with SerialLine() as line:`; `master_url` / `device_url` open the ends with
    any parity (`uart://`), `master_port` / `device_port` are the plain paths (8N only).
    """

    def __init__(self) -> None:
        self._ends: tuple[_End, _End] | None = None
        self.formats_seen: list[tuple[str, CharFormat]] = []
        """("master" or "device", its format) each time that end sent something."""

    @property
    def master_port(self) -> str:
        return self._require()[0].path

    @property
    def device_port(self) -> str:
        return self._require()[1].path

    @property
    def master_url(self) -> str:
        return f"uart://{self.master_port}"

    @property
    def device_url(self) -> str:
        return f"uart://{self.device_port}"

    def master_formats(self) -> set[CharFormat]:
        """Every format the master end sent in."""
        return {fmt for end, fmt in self.formats_seen if end == "master"}

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        master, device = self._ends = (_End(), _End())
        loop.add_reader(master.master, self._relay, master, device, "master")
        loop.add_reader(device.master, self._relay, device, master, "device")

    async def stop(self) -> None:
        ends, self._ends = self._ends, None
        if ends is None:
            return
        loop = asyncio.get_running_loop()
        for end in ends:
            loop.remove_reader(end.master)
            end.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def _require(self) -> tuple[_End, _End]:
        if self._ends is None:
            raise RuntimeError("the serial line is not started")
        return self._ends

    def _relay(self, source: _End, target: _End, name: str) -> None:
        try:
            data = os.read(source.master, 4096)
        except BlockingIOError:
            return
        sent = source.format
        source.bytes_in += len(data)
        self.formats_seen.append((name, sent))
        heard = reframe(data, sent, target.format)
        # The far end's input queue holds 4 KiB; Modbus frames are at most 256 bytes.
        with contextlib.suppress(BlockingIOError):
            os.write(target.master, heard)


class SerialModbusServer(ModbusTestServer):
    """`ModbusTestServer` on the device end of a `SerialLine`: RTU framing, `units` only.

    `port` is a path or a `uart://` URL; `parity`, `baudrate` and the rest are the device's own
    serial settings. `connections` counts the times the server's port was opened.
    """

    def __init__(
        self,
        port: str,
        units: tuple[int, ...] = (1,),
        *,
        baudrate: int = 9600,
        parity: Parity = "E",
        stopbits: int = 1,
        bytesize: int = 8,
        size: int = 1000,
    ) -> None:
        super().__init__(units, rtu_framing=True, size=size)
        self.serial_port = port
        self.format = CharFormat(baudrate, bytesize, parity, stopbits)
        self.answer_unknown_units = False

    def _create_server(self) -> ModbusBaseServer:
        fmt = self.format
        return ModbusSerialServer(
            self._devices(),
            framer=FramerType.RTU,
            port=self.serial_port,
            baudrate=fmt.baudrate,
            parity=fmt.parity,
            stopbits=fmt.stopbits,
            bytesize=fmt.bytesize,
            ignore_missing_devices=True,  # a unit that is not there does not answer
            trace_pdu=self._on_pdu,
            trace_connect=self._on_connect,
        )
