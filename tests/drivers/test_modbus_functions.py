"""Which Modbus function serves a table, and the limits checked before anything is sent."""

import pytest

from pstg.drivers.modbus.functions import FunctionCode, read_request, write_request
from pstg.model import RegisterTable

HR = RegisterTable.HOLDING_REGISTER
IR = RegisterTable.INPUT_REGISTER
COIL = RegisterTable.COIL
DI = RegisterTable.DISCRETE_INPUT


@pytest.mark.parametrize(
    ("table", "code"),
    [(COIL, 1), (DI, 2), (HR, 3), (IR, 4)],
)
def test_read_function_per_table(table, code):
    assert read_request(table, 0, 1).function_code == FunctionCode(code)


@pytest.mark.parametrize(
    ("table", "values", "code"),
    [(COIL, [1], 5), (COIL, [0, 1], 15), (HR, [7], 6), (HR, [7, 8], 16)],
)
def test_write_function_per_table_and_count(table, values, code):
    assert write_request(table, 0, values).function_code == FunctionCode(code)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: read_request(HR, 0, 126), "1..125"),
        (lambda: read_request(COIL, 0, 2001), "1..2000"),
        (lambda: read_request(IR, 0, 0), "not 0"),
        (lambda: read_request(HR, 65530, 10), "outside 0..65535"),
        (lambda: write_request(IR, 0, [1]), "read-only"),
        (lambda: write_request(DI, 0, [1]), "read-only"),
        (lambda: write_request(HR, 0, []), "empty"),
        (lambda: write_request(HR, 0, [65536]), "0..65535"),
        (lambda: write_request(HR, 0, [-1]), "0..65535"),
        (lambda: write_request(COIL, 0, [2]), "0 or 1"),
        (lambda: write_request(HR, 0, [0] * 124), "1..123"),
        (lambda: write_request(COIL, 0, [0] * 1969), "1..1968"),
    ],
)
def test_requests_outside_the_protocol_limits_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_describe():
    assert read_request(HR, 0, 10).describe() == "read holding_register 0..9"
    assert write_request(COIL, 5, [1]).describe() == "write coil 5"
