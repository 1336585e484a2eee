"""Built-in Modbus drivers on pymodbus: modbus-tcp, modbus-rtu and modbus-rtu-over-tcp.

Split by concern: `functions` (which function code reads or writes a table, and checking the
answer), `endpoints` (where a line goes and how its client is made), `line` (one shared link and
its request queue), `errors` (library failures mapped to the driver error tree) and `drivers`
(the three driver classes). pymodbus is used only here.
"""

from pstg.drivers.modbus.drivers import (
    ModbusDriver,
    ModbusRtuDriver,
    ModbusRtuOverTcpDriver,
    ModbusTcpDriver,
)

__all__ = ["ModbusDriver", "ModbusRtuDriver", "ModbusRtuOverTcpDriver", "ModbusTcpDriver"]
