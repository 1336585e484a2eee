"""The simulated PLC on the network: a pymodbus TCP server in front of process models.

One `StationServer` listens on one port and serves one `PumpStation` per unit id (several unit
ids behind one port is how a gateway or a multi-drop line looks). Registers are encoded from
the model lazily: a read refreshes the datastore from the register map only when the model has
moved since the last refresh, so an idle simulator costs nothing and a busy one encodes each
step at most once. Writes go to the model first (which may refuse them with a Modbus
exception), then pymodbus stores them; `writes` and `writes_refused` count the two outcomes.

Link faults (`LinkFaults`) are applied per request in pymodbus's datastore callback (delays,
exceptions, dropping connections) and in its packet trace hook (malformed frames). This is the
one place outside `pstg.drivers.modbus` that uses pymodbus: the server side is not a driver.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from pstg.model import RegisterTable
from pstg.simulator.faults import FaultKind, LinkFaults, corrupt_frame
from pstg.simulator.process import PumpStation
from pstg.simulator.registers import TABLE_SIZES, RegisterMap, WriteRefused

log = logging.getLogger("pstg.simulator")

_TABLE_OF_CODE = {
    1: RegisterTable.COIL,
    5: RegisterTable.COIL,
    15: RegisterTable.COIL,
    2: RegisterTable.DISCRETE_INPUT,
    3: RegisterTable.HOLDING_REGISTER,
    6: RegisterTable.HOLDING_REGISTER,
    16: RegisterTable.HOLDING_REGISTER,
    22: RegisterTable.HOLDING_REGISTER,
    23: RegisterTable.HOLDING_REGISTER,
    4: RegisterTable.INPUT_REGISTER,
}
_ECHOED_WRITE_CODES = frozenset((5, 6))
"""Write single coil / register: their answer repeats the request's address and value."""
# pymodbus's datastore is written through these codes; for the read-only tables it accepts a
# write through the read code, which is how the image gets into them.
_STORE_CODE = {
    RegisterTable.COIL: 15,
    RegisterTable.DISCRETE_INPUT: 2,
    RegisterTable.HOLDING_REGISTER: 16,
    RegisterTable.INPUT_REGISTER: 4,
}


class ListenError(OSError):
    """The server could not open its port."""


@dataclass
class SimulatedUnit:
    """One unit id's process model and the register map it is served through."""

    unit_id: int
    station: PumpStation
    register_map: RegisterMap
    version: int = 0
    """Bumped whenever the model changes; the served image is refreshed when it differs."""
    served_version: int = -1

    def touch(self) -> None:
        self.version += 1


class StationServer:
    """A Modbus TCP server on `host:port` serving `units`; see the module docstring."""

    def __init__(
        self, units: Mapping[int, SimulatedUnit], *, host: str, port: int, faults: LinkFaults
    ) -> None:
        self.units = dict(units)
        self.host = host
        self.port = port
        self.faults = faults
        self.requests = 0
        self.writes = 0
        """Write requests applied to a model: a test's proof that nothing was written."""
        self.writes_refused = 0
        self._server: ModbusTcpServer | None = None
        self._refreshing = False
        self._pending_corruptions: list[str] = []
        self._answering: set[asyncio.Task[object]] = set()

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        server = ModbusTcpServer(
            self._devices(),
            address=(self.host, self.port),
            trace_packet=self._on_packet,
        )
        try:
            await server.serve_forever(background=True)
        except RuntimeError:
            # pymodbus says only "Could not start listen"; the usual cause is a taken port.
            raise ListenError(
                f"cannot listen on {self.host}:{self.port}: the port is in use "
                "or the address is not one of this machine's"
            ) from None
        self._server = server
        if self.port == 0:
            listener = cast(asyncio.Server, server.transport)
            self.port = int(listener.sockets[0].getsockname()[1])
        for unit in self.units.values():
            unit.served_version = -1  # a new datastore: serve a fresh image

    async def stop(self) -> None:
        """Stop listening and close every connection (the model keeps running)."""
        server, self._server = self._server, None
        if server is None:
            return
        for task in list(self._answering):
            task.cancel()
        await asyncio.gather(*self._answering, return_exceptions=True)
        listener = cast(asyncio.Server | None, server.transport)
        await server.shutdown()  # type: ignore[no-untyped-call]
        if listener is not None:
            await listener.wait_closed()
        self._pending_corruptions.clear()

    def drop_connections(self) -> int:
        """Close every open client connection, as a failing link does. Returns how many."""
        if self._server is None:
            return 0
        connections = list(self._server.active_connections.values())
        for connection in connections:
            connection.close()
        return len(connections)

    def _devices(self) -> list[SimDevice]:
        devices = [
            SimDevice(
                unit_id, simdata=_blocks(), action=functools.partial(self._on_request, unit_id)
            )
            for unit_id in self.units
        ]
        if 0 not in self.units:
            # pymodbus routes every unit id it has no device for to id 0: answer as a gateway
            # does for a slave that is not there.
            devices.append(SimDevice(0, simdata=_blocks(), action=self._no_such_unit))
        return devices

    async def _on_request(
        self,
        unit_id: int,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if self._refreshing:
            return None  # our own image refresh, not a client
        if set_values is None and function_code in _ECHOED_WRITE_CODES:
            # pymodbus reads the datastore back to build a single write's answer: the second
            # half of the same request, answered with what was just stored. A real device echoes
            # the request (a fault reset's 1 too, though the coil reads 0 at the next poll).
            return None
        self.requests += 1
        fault = self.faults.next_request()
        if fault.kind is FaultKind.DROP:
            dropped = self.drop_connections()
            log.info("link fault: dropped %d connection(s)", dropped)
            # pymodbus still stores a dropped write's values; the model never saw them, so the
            # next read serves the model's image again instead of a write that did not happen.
            self.units[unit_id].touch()
            return None
        if fault.kind is FaultKind.DELAY:
            await self._sleep(fault.delay)
        elif fault.kind is FaultKind.BUSY:
            return ExcCodes.DEVICE_BUSY
        elif fault.kind is FaultKind.GATEWAY_NO_RESPONSE:
            return ExcCodes.GATEWAY_NO_RESPONSE
        elif fault.kind is FaultKind.MALFORMED:
            self._pending_corruptions.append(fault.malformed)
        unit = self.units[unit_id]
        table = _TABLE_OF_CODE.get(function_code)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        if set_values is not None:
            return self._write(unit, table, address, [int(v) for v in set_values])
        await self._refresh(unit)
        return None

    def _write(
        self, unit: SimulatedUnit, table: RegisterTable, address: int, values: list[int]
    ) -> ExcCodes | None:
        try:
            names = unit.register_map.write(unit.station, table, address, values)
        except WriteRefused as exc:
            self.writes_refused += 1
            log.info("unit %d: write refused: %s", unit.unit_id, exc)
            return ExcCodes(exc.code)
        log.info("unit %d: wrote %s", unit.unit_id, ", ".join(names))
        self.writes += 1
        unit.touch()
        return None

    async def _refresh(self, unit: SimulatedUnit) -> None:
        if unit.served_version == unit.version or self._server is None:
            return
        image = unit.register_map.image(unit.station)
        version = unit.version
        self._refreshing = True
        try:
            for table, values in image.items():
                data: list[int] | list[bool]
                data = [bool(v) for v in values] if table.is_bit_table else values
                await self._server.async_setValues(unit.unit_id, _STORE_CODE[table], 0, data)
        finally:
            self._refreshing = False
        unit.served_version = version

    async def _sleep(self, seconds: float) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._answering.add(task)
        try:
            await asyncio.sleep(seconds)
        finally:
            self._answering.discard(task)

    async def _no_such_unit(self, *_: object) -> ExcCodes | None:
        return ExcCodes.GATEWAY_NO_RESPONSE

    def _on_packet(self, sending: bool, data: bytes) -> bytes:
        if sending and self._pending_corruptions:
            return corrupt_frame(data, self._pending_corruptions.pop(0))
        return data


def _blocks() -> tuple[list[SimData], list[SimData], list[SimData], list[SimData]]:
    """Coils, discrete inputs, holding registers, input registers from address 0."""

    def bits(table: RegisterTable) -> list[SimData]:
        return [SimData(0, count=TABLE_SIZES[table], values=False, datatype=DataType.BITS)]

    def words(table: RegisterTable) -> list[SimData]:
        return [SimData(0, count=TABLE_SIZES[table], values=0, datatype=DataType.REGISTERS)]

    return (
        bits(RegisterTable.COIL),
        bits(RegisterTable.DISCRETE_INPUT),
        words(RegisterTable.HOLDING_REGISTER),
        words(RegisterTable.INPUT_REGISTER),
    )
