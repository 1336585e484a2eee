"""The three built-in Modbus drivers, registered as `pstg.drivers` entry points.

A driver is one device (one unit id) on a `ModbusLine`. Devices whose lines are the same (same
transport and host:port, or same serial port) share one line through the DriverContext, so they
share one connection and take turns on it. The classes also answer the config checks'
questions (`pstg.drivers.checks`): which link a device is on, and what its devices must agree
on; an RTU device needs a serial port.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

from pstg.config.checks import Finding
from pstg.config.models import DeviceConfig
from pstg.drivers.base import ConnectionState, DriverContext
from pstg.drivers.checks import SharedLink
from pstg.drivers.modbus.endpoints import Endpoint, SerialEndpoint, TcpEndpoint
from pstg.drivers.modbus.functions import Request, read_request, write_request
from pstg.drivers.modbus.line import ModbusLine
from pstg.drivers.planner import ReadBlock
from pstg.model import RegisterTable


class ModbusDriver(ABC):
    """A device on a Modbus line. Subclasses choose the line with `endpoint_for`."""

    def __init__(self, device: DeviceConfig, context: DriverContext) -> None:
        endpoint = self.endpoint_for(device)
        line = context.shared(endpoint.key, lambda: ModbusLine(endpoint))
        if line.endpoint != endpoint:
            raise ValueError(
                f"device {device.id!r}: its line settings ({endpoint}) differ from those of "
                f"another device on {endpoint.name} ({line.endpoint})"
            )
        line.adopt(pause=device.pause_between_requests, timeout=device.timeout)
        self.device = device
        self.line = line
        self._joined = False

    @classmethod
    @abstractmethod
    def endpoint_for(cls, device: DeviceConfig) -> Endpoint:
        """The line `device` is on."""

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.device.id} unit {self.device.unit_id} "
            f"on {self.line.name}, {self.state.value}>"
        )

    @property
    def state(self) -> ConnectionState:
        if self._joined and self.line.connected:
            return ConnectionState.CONNECTED
        return ConnectionState.DISCONNECTED

    async def connect(self) -> None:
        """Open (or join) the line; raise ConnectFailed. A no-op when already connected."""
        self._join()
        await self.line.open(self.device.timeout)

    async def read(self, block: ReadBlock, *, urgent: bool = False) -> list[int]:
        """`block.count` registers (0..65535) or bits (0/1); opens the line when needed.
        `urgent` (a read-back after a write) goes before the poll requests waiting."""
        request = read_request(block.table, block.address, block.count)
        return await self._send(request, urgent=urgent, retries=self.device.retries)

    async def write(self, table: RegisterTable, address: int, values: Sequence[int]) -> None:
        """FC5/FC15 for coils, FC6/FC16 for holding registers; ValueError for other tables.

        All `values` go in one request, ahead of the poll requests waiting on the line, and
        are sent once: a write resent after a timeout could act twice (a pulse, a counter)."""
        await self._send(write_request(table, address, values), urgent=True, retries=0)

    async def close(self) -> None:
        """Release this device's hold on the line; the last device closes it."""
        if self._joined:
            self._joined = False
            self.line.leave()

    def _join(self) -> None:
        if not self._joined:
            self._joined = True
            self.line.join()

    async def _send(self, request: Request, *, urgent: bool, retries: int) -> list[int]:
        self._join()
        device = self.device
        return await self.line.request(
            device.unit_id,
            request,
            response_timeout=device.timeout,
            retries=retries,
            urgent=urgent,
        )


NETWORK_SHARED = ("driver", "timeout")
"""What devices behind one host:port must agree on."""
SERIAL_SHARED = ("driver", "timeout", "baudrate", "parity", "stopbits", "bytesize")
"""What devices on one serial port must agree on."""


class _NetworkDriver(ModbusDriver):
    """A Modbus driver over TCP: devices behind one host:port share the connection."""

    @classmethod
    def link_of(cls, device: DeviceConfig) -> SharedLink:
        host = f"[{device.host}]" if ":" in device.host else device.host  # IPv6 literal
        return SharedLink(f"{host}:{device.port}", NETWORK_SHARED)


class ModbusTcpDriver(_NetworkDriver):
    """`modbus-tcp`: Modbus TCP (MBAP framing) to `host`:`port`, addressed to `unit_id`."""

    @classmethod
    def endpoint_for(cls, device: DeviceConfig) -> Endpoint:
        return TcpEndpoint(device.host, device.port)


class ModbusRtuOverTcpDriver(_NetworkDriver):
    """`modbus-rtu-over-tcp`: RTU frames over TCP, for transparent serial-to-Ethernet converters."""

    @classmethod
    def endpoint_for(cls, device: DeviceConfig) -> Endpoint:
        return TcpEndpoint(device.host, device.port, rtu_framing=True)


class ModbusRtuDriver(ModbusDriver):
    """`modbus-rtu`: RTU on the serial port `serial_port` (RS-485/RS-232)."""

    @classmethod
    def check_device(cls, device: DeviceConfig) -> Iterator[Finding]:
        if not device.serial_port:
            yield Finding(
                (),
                f"missing required key 'serial_port' for driver {device.driver!r} "
                "(e.g. /dev/ttyUSB0 or COM3)",
            )

    @classmethod
    def link_of(cls, device: DeviceConfig) -> SharedLink | None:
        if not device.serial_port:
            return None
        return SharedLink(f"serial port {device.serial_port}", SERIAL_SHARED)

    @classmethod
    def endpoint_for(cls, device: DeviceConfig) -> Endpoint:
        if not device.serial_port:
            raise ValueError(f"device {device.id!r}: driver modbus-rtu needs serial_port")
        return SerialEndpoint(
            device.serial_port,
            baudrate=device.baudrate,
            parity=device.parity,
            stopbits=device.stopbits,
            bytesize=device.bytesize,
        )
