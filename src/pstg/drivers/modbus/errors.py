"""Mapping library failures (OSError, pyserial, pymodbus) to the driver error tree.

Every `raise` of a DriverError in the Modbus driver goes through these helpers, so messages stay
plain ("connection refused by 127.0.0.1:5020") and no pymodbus type leaves the package.
"""

from __future__ import annotations

import errno
import socket

from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from pstg.drivers.errors import (
    ConnectFailed,
    ConnectionLost,
    DriverError,
    MalformedResponse,
)

_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}

SETTINGS_REFUSED: tuple[type[Exception], ...]
"""What opening a serial port raises, besides OSError, when it cannot take the settings."""
try:
    import termios
except ImportError:  # not POSIX: pyserial says so with ValueError or SerialException
    SETTINGS_REFUSED = ()
else:
    SETTINGS_REFUSED = (termios.error,)
SERIAL_OPEN_ERRORS: tuple[type[Exception], ...] = (OSError, ValueError, *SETTINGS_REFUSED)
"""Everything opening a serial port through pyserial raises for a port or settings problem."""


def connect_failed(exc: OSError, where: str) -> ConnectFailed:
    """A TCP connect to `where` ("host:port") failed with `exc`."""
    if isinstance(exc, ConnectionRefusedError):
        return ConnectFailed(f"connection refused by {where}")
    if isinstance(exc, socket.gaierror):
        host = where.rsplit(":", 1)[0]
        return ConnectFailed(f"cannot resolve host name {host!r}")
    if exc.errno in _UNREACHABLE:
        return ConnectFailed(f"{where} is unreachable ({exc.strerror or exc})")
    if isinstance(exc, TimeoutError):
        return connect_timed_out(where)
    return ConnectFailed(f"cannot connect to {where}: {exc.strerror or exc}")


def connect_timed_out(where: str) -> ConnectFailed:
    return ConnectFailed(f"timed out connecting to {where}")


def serial_open_failed(exc: Exception, port: str, settings: str) -> ConnectFailed:
    """Opening serial port `port` with `settings` ("9600 8E1") failed.

    pyserial's SerialException is an OSError. A port that refuses the settings raises
    `termios.error` (not an OSError) on POSIX: a pseudo-terminal, for one, cannot hold parity
    or 7 data bits. An unknown URL scheme or an impossible value raises ValueError.
    """
    if isinstance(exc, SETTINGS_REFUSED):
        reason = exc.args[-1] if exc.args else exc  # termios.error is (errno, strerror)
        return ConnectFailed(f"serial port {port} refused the settings {settings}: {reason}")
    if not isinstance(exc, OSError):
        return ConnectFailed(f"cannot open serial port {port} as {settings}: {exc}")
    if exc.errno == errno.ENOENT:
        return ConnectFailed(f"serial port {port} not found")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ConnectFailed(f"no permission to open serial port {port}")
    # pyserial opens ports with an exclusive lock: EAGAIN when another program holds it.
    if exc.errno in (errno.EBUSY, errno.EAGAIN):
        return ConnectFailed(f"serial port {port} is in use by another program")
    return ConnectFailed(f"cannot open serial port {port}: {exc}")


def from_library(exc: Exception, where: str) -> DriverError:
    """A pymodbus exception or OSError raised while a request was on the wire."""
    if isinstance(exc, ConnectionException | OSError):
        return ConnectionLost(f"connection to {where} lost")
    if isinstance(exc, ModbusIOException):
        # pymodbus raises it when the answer's unit or transaction id does not match ours.
        return MalformedResponse(f"answer did not match the request ({where}): {exc.string}")
    if isinstance(exc, ModbusException):
        return MalformedResponse(f"unusable answer ({where}): {exc.string}")
    return MalformedResponse(f"unusable answer ({where}): {exc}")
