"""Real servers on 127.0.0.1 for tests: a pymodbus Modbus server, and two misbehaving ones.

- `ModbusTestServer`: pymodbus's ModbusTcpServer (MBAP framing, or RTU frames over TCP for the
  modbus-rtu-over-tcp driver) serving several unit ids, each with coils, discrete inputs, holding
  and input registers at addresses 0..size-1. It counts requests per (unit, function code),
  can answer slowly, and can be stopped and started again on the same port with its values kept.
  A unit id it does not serve gets exception 0x0B, as a gateway answers for a silent slave.
- `SilentServer`: accepts TCP connections, reads whatever comes and never answers.
- `GarbageServer`: answers every Modbus TCP request with a broken frame of a chosen kind.
- `FullBacklogListener`: a port that listens but whose accept queue is full, so a connect hangs
  until it times out (Linux drops the SYN), the loopback stand-in for an unreachable host.

All of them run in the test's event loop; use them as `async with ...:` or call start()/stop().
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections import Counter
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Literal, Self, cast

from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusBaseServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from pstg.model import RegisterTable

HOST = "127.0.0.1"

# Function codes the datastore is read and written with, per table.
_READ_CODE = {
    RegisterTable.COIL: 1,
    RegisterTable.DISCRETE_INPUT: 2,
    RegisterTable.HOLDING_REGISTER: 3,
    RegisterTable.INPUT_REGISTER: 4,
}
_WRITE_CODE = {
    RegisterTable.COIL: 15,
    RegisterTable.DISCRETE_INPUT: 2,  # the datastore accepts a write through a read code
    RegisterTable.HOLDING_REGISTER: 16,
    RegisterTable.INPUT_REGISTER: 4,
}


class _Lifecycle:
    """`async with` support over start()/stop()."""

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

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


class ModbusTestServer(_Lifecycle):
    """A pymodbus server on 127.0.0.1 with a datastore per unit id; see the module docstring.

    `port=0` picks a free port at the first start; restarts reuse it. Bit tables hold `size`
    bits rounded up to a multiple of 16 (pymodbus stores bits in 16-bit words).
    """

    def __init__(
        self,
        units: Iterable[int] = (1,),
        *,
        rtu_framing: bool = False,
        size: int = 1000,
        port: int = 0,
    ) -> None:
        self.host = HOST
        self.port = port
        self.units = tuple(units)
        self.rtu_framing = rtu_framing
        self.size = size
        self.answer_unknown_units = True
        """Answer a unit id it does not serve with exception 0x0B (False: stay silent; the
        server must then be made with ignore_missing_devices)."""
        self.register_ceiling: int | None = None
        """Holding registers written above this are stored as this, as a device that clamps a
        setpoint does (None: stored as written)."""
        self.refuse_writes: int | None = None
        """Answer every write (FC5/6/15/16) with this Modbus exception code, storing nothing,
        as a PLC refuses a value it will not take (3: illegal data value). None: accept."""
        self.response_delay = 0.0
        """Seconds every request to a served unit takes; change it at any time."""
        self.requests: Counter[tuple[int, int]] = Counter()
        """Requests received per (unit id, function code)."""
        self.request_log: list[tuple[float, int, int]] = []
        """(event loop time, unit id, function code) of each request, in arrival order."""
        self.connections = 0
        """TCP connections accepted since the first start."""
        self.open_connections = 0
        self._server: ModbusBaseServer | None = None
        self._saved: dict[tuple[int, RegisterTable], list[int]] = {}
        self._answering: set[asyncio.Task[object]] = set()
        self._direct_access = False

    @property
    def running(self) -> bool:
        return self._server is not None

    def request_count(self, unit: int | None = None, function_code: int | None = None) -> int:
        """Requests received, optionally only for one unit and/or one function code."""
        return sum(
            count
            for (seen_unit, seen_code), count in self.requests.items()
            if unit in (None, seen_unit) and function_code in (None, seen_code)
        )

    async def start(self) -> None:
        if self._server is not None:
            return
        server = self._create_server()
        await server.serve_forever(background=True)
        self._server = server
        listener = server.transport
        if self.port == 0 and isinstance(listener, asyncio.Server):
            self.port = int(listener.sockets[0].getsockname()[1])
        for (unit, table), values in self._saved.items():
            await self.set_values(unit, table, 0, values)
        self._saved.clear()

    async def stop(self) -> None:
        """Stop listening and drop every connection; values are kept for the next start()."""
        server = self._server
        if server is None:
            return
        for unit in self.units:
            for table in RegisterTable:
                count = self._table_size(table)
                self._saved[unit, table] = await self.get_values(unit, table, 0, count)
        for task in self._answering:
            task.cancel()
        await asyncio.gather(*self._answering, return_exceptions=True)
        listener = server.transport
        await server.shutdown()
        if isinstance(listener, asyncio.Server):
            await listener.wait_closed()
        self._server = None
        self.open_connections = 0
        await asyncio.sleep(0)  # let the closed transports deliver connection_lost

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def set_values(
        self, unit: int, table: RegisterTable, address: int, values: Sequence[int]
    ) -> None:
        """Put registers (or bits, as 0/1 or bools) into the datastore of `unit`."""
        server = self._require_server()
        data: list[int] | list[bool]
        data = [bool(v) for v in values] if table.is_bit_table else [int(v) for v in values]
        self._direct_access = True
        try:
            await server.async_setValues(unit, _WRITE_CODE[table], address, data)
        finally:
            self._direct_access = False

    async def get_values(
        self, unit: int, table: RegisterTable, address: int, count: int
    ) -> list[int]:
        """Registers (or bits as 0/1) from the datastore of `unit`."""
        server = self._require_server()
        self._direct_access = True
        try:
            values = await server.async_getValues(unit, _READ_CODE[table], address, count)
        finally:
            self._direct_access = False
        return [int(value) for value in values]

    def _create_server(self) -> ModbusBaseServer:
        return ModbusTcpServer(
            self._devices(),
            framer=FramerType.RTU if self.rtu_framing else FramerType.SOCKET,
            address=(self.host, self.port),
            trace_pdu=self._on_pdu,
            trace_connect=self._on_connect,
        )

    def _require_server(self) -> ModbusBaseServer:
        if self._server is None:
            raise RuntimeError("the test server is not running")
        return self._server

    def _table_size(self, table: RegisterTable) -> int:
        return -(-self.size // 16) * 16 if table.is_bit_table else self.size

    def _devices(self) -> list[SimDevice]:
        bits = self._table_size(RegisterTable.COIL)

        def blocks() -> tuple[list[SimData], list[SimData], list[SimData], list[SimData]]:
            return (
                [SimData(0, count=bits, values=False, datatype=DataType.BITS)],
                [SimData(0, count=bits, values=False, datatype=DataType.BITS)],
                [SimData(0, count=self.size, values=0, datatype=DataType.REGISTERS)],
                [SimData(0, count=self.size, values=0, datatype=DataType.REGISTERS)],
            )

        devices = [SimDevice(unit, simdata=blocks(), action=self._answer) for unit in self.units]
        if 0 not in self.units:
            # pymodbus sends id 0 every unit it has no device for.
            devices.append(SimDevice(0, simdata=blocks(), action=self._no_such_unit))
        return devices

    async def _answer(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        refusal = self.refuse_writes
        if refusal is not None and function_code in (5, 6, 15, 16) and not self._direct_access:
            return ExcCodes(refusal)
        ceiling = self.register_ceiling
        if (
            ceiling is not None
            and set_values
            and function_code in (6, 16)
            and not self._direct_access
        ):
            # pymodbus stores this very list after the action returns.
            written = cast(list[int], set_values)
            written[:] = [min(value, ceiling) for value in written]
        if self.response_delay > 0 and not self._direct_access:
            task = asyncio.current_task()
            assert task is not None
            self._answering.add(task)
            try:
                await asyncio.sleep(self.response_delay)
            finally:
                self._answering.discard(task)
        return None

    async def _no_such_unit(self, *args: object) -> ExcCodes | None:
        if self.answer_unknown_units:
            return ExcCodes.GATEWAY_NO_RESPONSE
        # With ignore_missing_devices the server then sends nothing, as an absent unit would.
        raise NoSuchIdException()

    def _on_pdu(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        if not sending:
            self.requests[pdu.dev_id, pdu.function_code] += 1
            now = asyncio.get_running_loop().time()
            self.request_log.append((now, pdu.dev_id, pdu.function_code))
        return pdu

    def _on_connect(self, connected: bool) -> None:
        if connected:
            self.connections += 1
            self.open_connections += 1
        else:
            self.open_connections = max(0, self.open_connections - 1)


class _RawServer(_Lifecycle):
    """A plain asyncio TCP server on 127.0.0.1 that runs `handle` per connection."""

    def __init__(self, port: int = 0) -> None:
        self.host = HOST
        self.port = port
        self.connections = 0
        self.received = 0
        """Bytes received over all connections."""
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[object]] = set()

    async def start(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        # Closing the transports ends each handler's read with EOF. Cancelling the handlers
        # instead would make asyncio's stream callback log an error.
        for writer in self._writers:
            writer.close()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=2.0)
        await server.wait_closed()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        self.connections += 1
        try:
            await self.handle(reader, writer)
        except ConnectionError:
            pass
        finally:
            self._writers.discard(writer)
            self._handlers.discard(task)
            writer.close()


class SilentServer(_RawServer):
    """Accepts connections and never answers: the device that hangs."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):
            self.received += len(data)


GarbageKind = Literal[
    "wrong_count",
    "wrong_function",
    "bad_byte_count",
    "unknown_function",
    "wrong_transaction_id",
    "truncated",
    "noise",
]


class GarbageServer(_RawServer):
    """Answers each Modbus TCP read (FC1-4) with a broken frame of kind `kind`, anything else
    (an RTU frame, say) with noise:

    - wrong_count: a well-formed answer with fewer registers (or bit bytes) than asked for
    - wrong_function: a well-formed answer to a different read function
    - bad_byte_count: the byte count claims more data than the frame holds
    - unknown_function: a frame with function code 0x55
    - wrong_transaction_id: a correct answer under another transaction id
    - truncated: a correct answer missing its last byte
    - noise: a few bytes that are no Modbus frame at all
    """

    def __init__(self, kind: GarbageKind = "wrong_count", port: int = 0) -> None:
        super().__init__(port)
        self.kind: GarbageKind = kind

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(260):
            self.received += len(data)
            writer.write(self.answer(data))

    def answer(self, request: bytes) -> bytes:
        """The broken answer to `request` (noise for anything but a Modbus TCP read)."""
        if self.kind == "noise" or len(request) < 12:
            return b"\xde\xad\xbe\xef\x00"
        tid, _protocol, _length, unit, function = struct.unpack(">HHHBB", request[:8])
        _address, count = struct.unpack(">HH", request[8:12])
        is_bits = function in (1, 2)
        data_bytes = -(-count // 8) if is_bits else 2 * count
        kind = self.kind
        if kind == "unknown_function":
            return _mbap(tid, unit, bytes([0x55, 0x01, 0x02]))
        if kind == "wrong_count":
            short = max(0, data_bytes - (1 if is_bits else 2))
            return _mbap(tid, unit, bytes([function, short]) + bytes(short))
        if kind == "bad_byte_count":
            return _mbap(tid, unit, bytes([function, data_bytes + 4]) + bytes(data_bytes))
        if kind == "wrong_function":
            other = {1: 2, 2: 1, 3: 4, 4: 3}.get(function, 3)
            return _mbap(tid, unit, bytes([other, data_bytes]) + bytes(data_bytes))
        correct = bytes([function, data_bytes]) + bytes(data_bytes)
        if kind == "wrong_transaction_id":
            return _mbap((tid + 1000) & 0xFFFF, unit, correct)
        return _mbap(tid, unit, correct)[:-1]  # truncated


def _mbap(tid: int, unit: int, pdu: bytes) -> bytes:
    """A Modbus TCP frame: MBAP header (transaction, protocol 0, length, unit) and the PDU."""
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


class FullBacklogListener(_Lifecycle):
    """Listens with a backlog of 0 and fills it with connections it never accepts."""

    def __init__(self) -> None:
        self.host = HOST
        self.port = 0
        self._sockets: list[socket.socket] = []

    async def start(self) -> None:
        listener = socket.socket()
        listener.bind((self.host, 0))
        listener.listen(0)
        self.port = int(listener.getsockname()[1])
        self._sockets.append(listener)
        for _ in range(2):  # Linux queues backlog + 1 connections; one more for good measure
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex((self.host, self.port))  # EINPROGRESS: completes meanwhile
            self._sockets.append(filler)
        await asyncio.sleep(0.01)  # let the handshakes complete and fill the queue

    async def stop(self) -> None:
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()
