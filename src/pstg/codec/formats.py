"""The fixed-size types: which `struct` code reads them and which values they can hold.

One table, shared by decoding, encoding and sentinel checks, so the three can never disagree on
a type's width or signedness.
"""

from __future__ import annotations

from dataclasses import dataclass

from pstg.model import DataType


@dataclass(frozen=True, slots=True)
class NumericFormat:
    """How a numeric `DataType` lies in registers."""

    data_type: DataType
    code: str  # struct format character of the whole value
    registers: int
    is_float: bool
    signed: bool

    @property
    def bits(self) -> int:
        return self.registers * 16

    @property
    def low(self) -> int:
        """Smallest integer value (integer types only)."""
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def high(self) -> int:
        """Largest integer value (integer types only)."""
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def pattern_code(self) -> str:
        """struct code reading the same bytes as an unsigned integer: the raw bit pattern."""
        return {1: "H", 2: "I", 4: "Q"}[self.registers]


NUMERIC_FORMATS: dict[DataType, NumericFormat] = {
    fmt.data_type: fmt
    for fmt in (
        NumericFormat(DataType.INT16, "h", 1, is_float=False, signed=True),
        NumericFormat(DataType.UINT16, "H", 1, is_float=False, signed=False),
        NumericFormat(DataType.INT32, "i", 2, is_float=False, signed=True),
        NumericFormat(DataType.UINT32, "I", 2, is_float=False, signed=False),
        NumericFormat(DataType.INT64, "q", 4, is_float=False, signed=True),
        NumericFormat(DataType.UINT64, "Q", 4, is_float=False, signed=False),
        NumericFormat(DataType.FLOAT32, "f", 2, is_float=True, signed=True),
        NumericFormat(DataType.FLOAT64, "d", 4, is_float=True, signed=True),
    )
}
