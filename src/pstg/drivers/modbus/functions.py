"""Modbus requests: which function code serves a table, how it is sent, and checking the answer.

A `Request` is built (and its limits checked) once, sent through a pymodbus client for one unit,
and the answer is checked against it: an exception response becomes DeviceException, anything
that does not answer exactly what was asked (function, address, count) becomes MalformedResponse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from pymodbus.client.base import ModbusBaseClient
from pymodbus.pdu import ModbusPDU

from pstg.drivers.errors import DeviceException, MalformedResponse
from pstg.model import RegisterTable


class FunctionCode(IntEnum):
    """The Modbus function codes the drivers use."""

    READ_COILS = 1
    READ_DISCRETE_INPUTS = 2
    READ_HOLDING_REGISTERS = 3
    READ_INPUT_REGISTERS = 4
    WRITE_SINGLE_COIL = 5
    WRITE_SINGLE_REGISTER = 6
    WRITE_MULTIPLE_COILS = 15
    WRITE_MULTIPLE_REGISTERS = 16


FC = FunctionCode
READ_FUNCTION = {
    RegisterTable.COIL: FC.READ_COILS,
    RegisterTable.DISCRETE_INPUT: FC.READ_DISCRETE_INPUTS,
    RegisterTable.HOLDING_REGISTER: FC.READ_HOLDING_REGISTERS,
    RegisterTable.INPUT_REGISTER: FC.READ_INPUT_REGISTERS,
}
# Items per request, from the Modbus application protocol specification v1.1b3, section 6.
_LIMIT = {
    FC.READ_COILS: 2000,
    FC.READ_DISCRETE_INPUTS: 2000,
    FC.READ_HOLDING_REGISTERS: 125,
    FC.READ_INPUT_REGISTERS: 125,
    FC.WRITE_SINGLE_COIL: 1,
    FC.WRITE_SINGLE_REGISTER: 1,
    FC.WRITE_MULTIPLE_COILS: 1968,
    FC.WRITE_MULTIPLE_REGISTERS: 123,
}


@dataclass(frozen=True, slots=True)
class Request:
    """One Modbus request, independent of the unit it is sent to."""

    function_code: FunctionCode
    table: RegisterTable
    address: int
    count: int
    values: tuple[int, ...] = ()

    @property
    def is_write(self) -> bool:
        return bool(self.values)

    def describe(self) -> str:
        """E.g. "read holding_register 0..9" or "write coil 5"."""
        verb = "write" if self.is_write else "read"
        span = str(self.address)
        if self.count > 1:
            span = f"{self.address}..{self.address + self.count - 1}"
        return f"{verb} {self.table.value} {span}"

    async def send(self, client: ModbusBaseClient, unit: int) -> ModbusPDU:
        """Send through `client` to `unit`; the answer (pymodbus errors pass through)."""
        address, count, values = self.address, self.count, self.values
        match self.function_code:
            case FC.READ_COILS:
                return await client.read_coils(address, count=count, device_id=unit)
            case FC.READ_DISCRETE_INPUTS:
                return await client.read_discrete_inputs(address, count=count, device_id=unit)
            case FC.READ_HOLDING_REGISTERS:
                return await client.read_holding_registers(address, count=count, device_id=unit)
            case FC.READ_INPUT_REGISTERS:
                return await client.read_input_registers(address, count=count, device_id=unit)
            case FC.WRITE_SINGLE_COIL:
                return await client.write_coil(address, bool(values[0]), device_id=unit)
            case FC.WRITE_SINGLE_REGISTER:
                return await client.write_register(address, values[0], device_id=unit)
            case FC.WRITE_MULTIPLE_COILS:
                bits = [bool(value) for value in values]
                return await client.write_coils(address, bits, device_id=unit)
            case FC.WRITE_MULTIPLE_REGISTERS:
                return await client.write_registers(address, list(values), device_id=unit)

    def result(self, response: ModbusPDU, where: str) -> list[int]:
        """Check `response` against this request; the registers or bits (0/1) it carries."""
        if response.isError():
            raise DeviceException(response.exception_code, f"{where}, {self.describe()}")
        if response.function_code != self.function_code:
            raise MalformedResponse(
                f"function {self.function_code.value} was answered with function "
                f"{response.function_code} ({where}, {self.describe()})"
            )
        if self.is_write:
            self._check_write_echo(response, where)
            return []
        if self.table.is_bit_table:
            bits = response.bits
            # Bits travel packed in whole bytes: the answer is padded up to a multiple of 8.
            if not self.count <= len(bits) < self.count + 8:
                raise self._wrong_count(len(bits), where)
            return [1 if bit else 0 for bit in bits[: self.count]]
        registers = response.registers
        if len(registers) != self.count:
            raise self._wrong_count(len(registers), where)
        return list(registers)

    def _check_write_echo(self, response: ModbusPDU, where: str) -> None:
        # FC5/FC6 echo address and value, FC15/FC16 echo address and count.
        if self.function_code is FC.WRITE_SINGLE_COIL:
            echoed = [1 if bit else 0 for bit in response.bits[:1]]
        elif self.function_code is FC.WRITE_SINGLE_REGISTER:
            echoed = list(response.registers[:1])
        else:
            echoed = list(self.values) if response.count == self.count else []
        if response.address != self.address or echoed != list(self.values):
            raise MalformedResponse(
                f"the write confirmation does not match the request ({where}, {self.describe()})"
            )

    def _wrong_count(self, got: int, where: str) -> MalformedResponse:
        unit = "bits" if self.table.is_bit_table else "registers"
        return MalformedResponse(
            f"asked for {self.count} {unit}, the answer carried {got} ({where}, {self.describe()})"
        )


def read_request(table: RegisterTable, address: int, count: int) -> Request:
    """The request reading `count` registers or bits of `table` from `address`."""
    function_code = READ_FUNCTION[table]
    _check_span(function_code, table, address, count)
    return Request(function_code, table, address, count)


def write_request(table: RegisterTable, address: int, values: Sequence[int]) -> Request:
    """FC5/FC15 for coils, FC6/FC16 for holding registers (single value: the single form)."""
    if not table.is_writable:
        raise ValueError(f"a {table.value} is read-only: it cannot be written")
    if not values:
        raise ValueError("nothing to write: values is empty")
    if table.is_bit_table:
        if any(value not in (0, 1) for value in values):
            raise ValueError(f"coil values must be 0 or 1, not {list(values)}")
        function_code = FC.WRITE_SINGLE_COIL if len(values) == 1 else FC.WRITE_MULTIPLE_COILS
    else:
        if any(not 0 <= value <= 0xFFFF for value in values):
            raise ValueError(f"register values must be within 0..65535, not {list(values)}")
        function_code = (
            FC.WRITE_SINGLE_REGISTER if len(values) == 1 else FC.WRITE_MULTIPLE_REGISTERS
        )
    _check_span(function_code, table, address, len(values))
    return Request(function_code, table, address, len(values), tuple(int(v) for v in values))


def _check_span(
    function_code: FunctionCode, table: RegisterTable, address: int, count: int
) -> None:
    limit = _LIMIT[function_code]
    if not 1 <= count <= limit:
        raise ValueError(
            f"function {function_code.value} ({table.value}) takes 1..{limit} items per request, "
            f"not {count}"
        )
    if address < 0 or address + count - 1 > 0xFFFF:
        raise ValueError(f"addresses {address}..{address + count - 1} are outside 0..65535")
