"""`uart://PATH`: a pty opened like a UART that can take any parity and data bits.

A pty cannot hold parity or 7 data bits (see tests/support/serial_line.py), so this opens it as
8N with the requested speed and stop bits, and records the format the port was asked for in
`serial_line.requested_formats`, where the test line's relay reads it.
"""

from __future__ import annotations

from typing import cast

import serial

from tests.support.serial_line import CharFormat, Parity, requested_formats


def serial_class_for_url(url: str) -> tuple[str, type[serial.Serial]]:
    """pyserial's hook: the path behind `uart://PATH`, and the class that opens it."""
    return url.split("://", 1)[1], Serial


class Serial(serial.Serial):  # type: ignore[misc]  # pyserial ships no type hints
    """pyserial's POSIX port, minus the settings a pty refuses (recorded instead)."""

    _parity: str
    _bytesize: int

    def _reconfigure_port(self, force_update: bool = False) -> None:
        parity, bytesize = self._parity, self._bytesize
        self._parity, self._bytesize = serial.PARITY_NONE, serial.EIGHTBITS
        try:
            super()._reconfigure_port(force_update)
        finally:
            self._parity, self._bytesize = parity, bytesize
        requested_formats[self.portstr] = CharFormat(
            self._baudrate, bytesize, cast(Parity, parity), int(self._stopbits)
        )

    def close(self) -> None:
        requested_formats.pop(self.portstr, None)
        super().close()
