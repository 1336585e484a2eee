"""Where a Modbus line goes: a TCP endpoint (MBAP or RTU framing) or a serial port.

An endpoint is a value: devices with equal `key`s share one line. It makes the pymodbus client
for one connection of its line and turns the errors of opening it into ConnectFailed, and it
says what a garbled answer or silence most likely means on its kind of link.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import ClassVar, Protocol

from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.base import ModbusBaseClient
from pymodbus.pdu import ModbusPDU

from pstg.drivers.errors import ConnectFailed
from pstg.drivers.modbus import errors


class ClientHooks(Protocol):
    """The pymodbus trace hooks a line watches one connection through."""

    def on_packet(self, sending: bool, data: bytes) -> bytes: ...

    def on_pdu(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU: ...

    def on_connect(self, connected: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class TcpEndpoint:
    """A Modbus TCP device or gateway, or (rtu_framing) a serial-to-Ethernet converter."""

    host: str
    port: int
    rtu_framing: bool = False

    open_errors: ClassVar[tuple[type[Exception], ...]] = (OSError,)

    @property
    def key(self) -> Hashable:
        return ("modbus-line", "rtu-over-tcp" if self.rtu_framing else "tcp", self.host, self.port)

    @property
    def garbled_hint(self) -> str:
        """Appended to a garbled-answer message: the likely cause on this kind of link."""
        if not self.rtu_framing:
            return ""
        return "; check that the converter's serial settings match the device's"

    @property
    def silence_hint(self) -> str:
        """Appended to a no-answer message."""
        if not self.rtu_framing:
            return ""
        return "; the unit may be off or have another id, or the converter's serial settings differ"

    @property
    def name(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def connect_failed(self, exc: Exception) -> ConnectFailed:
        assert isinstance(exc, OSError)  # the only kind in open_errors
        return errors.connect_failed(exc, self.name)

    def make_client(self, timeout: float, hooks: ClientHooks) -> ModbusBaseClient:
        return AsyncModbusTcpClient(
            self.host,
            port=self.port,
            framer=FramerType.RTU if self.rtu_framing else FramerType.SOCKET,
            reconnect_delay=0,
            timeout=timeout,
            retries=0,
            trace_packet=hooks.on_packet,
            trace_pdu=hooks.on_pdu,
            trace_connect=hooks.on_connect,
        )


@dataclass(frozen=True, slots=True)
class SerialEndpoint:
    """A serial port with RTU framing. `port` may also be a pyserial URL (socket://, rfc2217://)."""

    port: str
    baudrate: int = 9600
    parity: str = "E"  # the Modbus serial line default (Modbus over Serial Line v1.02, 2.5.1)
    stopbits: int = 1
    bytesize: int = 8

    open_errors: ClassVar[tuple[type[Exception], ...]] = errors.SERIAL_OPEN_ERRORS

    @property
    def key(self) -> Hashable:
        return ("modbus-line", "serial", self.port)

    @property
    def name(self) -> str:
        return self.port

    @property
    def settings(self) -> str:
        """The character format in the usual notation, e.g. "9600 8E1"."""
        return f"{self.baudrate} {self.bytesize}{self.parity}{self.stopbits}"

    @property
    def garbled_hint(self) -> str:
        return (
            "; on a serial line this is the mark of a baud rate, parity or stop bits that "
            f"differ from the device's (this line: {self.settings})"
        )

    @property
    def silence_hint(self) -> str:
        return (
            "; the unit may be off or have another id, or the device's baud rate or parity "
            f"may differ from this line's {self.settings}"
        )

    def connect_failed(self, exc: Exception) -> ConnectFailed:
        return errors.serial_open_failed(exc, self.port, self.settings)

    def make_client(self, timeout: float, hooks: ClientHooks) -> ModbusBaseClient:
        return AsyncModbusSerialClient(
            self.port,
            framer=FramerType.RTU,
            baudrate=self.baudrate,
            parity=self.parity,
            stopbits=self.stopbits,
            bytesize=self.bytesize,
            reconnect_delay=0,
            timeout=timeout,
            retries=0,
            trace_packet=hooks.on_packet,
            trace_pdu=hooks.on_pdu,
            trace_connect=hooks.on_connect,
        )


Endpoint = TcpEndpoint | SerialEndpoint
