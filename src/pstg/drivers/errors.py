"""The driver error tree. Library exceptions (pymodbus, OSError, asyncio) are mapped to these
at the driver boundary with `raise ... from exc`; nothing above the drivers sees a pymodbus type.

    DriverError                     any failure to talk to a device
     ├── ConnectFailed              could not open the link (refused, unreachable, no such port)
     ├── ConnectionLost             the link dropped during a request
     ├── RequestTimeout             the device did not answer within the timeout
     ├── DeviceException            the device answered with a Modbus exception (code, name)
     └── MalformedResponse          the answer was short, garbled or did not match the request
"""

from __future__ import annotations

from enum import StrEnum

from pstg.model import QualityReason


class FailureKind(StrEnum):
    """How a request failed; kept apart in statistics, events and sample quality."""

    CONNECT_FAILED = "connect_failed"
    CONNECTION_LOST = "connection_lost"
    TIMEOUT = "timeout"
    DEVICE_EXCEPTION = "device_exception"
    MALFORMED_RESPONSE = "malformed_response"

    @property
    def quality_reason(self) -> QualityReason:
        return _QUALITY_REASON[self]


_QUALITY_REASON = {
    FailureKind.CONNECT_FAILED: QualityReason.COMM_FAILURE,
    FailureKind.CONNECTION_LOST: QualityReason.COMM_FAILURE,
    FailureKind.TIMEOUT: QualityReason.TIMEOUT,
    FailureKind.DEVICE_EXCEPTION: QualityReason.DEVICE_FAILURE,
    FailureKind.MALFORMED_RESPONSE: QualityReason.MALFORMED_RESPONSE,
}


class DriverError(Exception):
    """Base of every failure a driver reports. `kind` classifies it for stats and quality."""

    kind: FailureKind = FailureKind.CONNECTION_LOST

    @property
    def quality_reason(self) -> QualityReason:
        return self.kind.quality_reason


class ConnectFailed(DriverError):
    kind = FailureKind.CONNECT_FAILED


class ConnectionLost(DriverError):
    kind = FailureKind.CONNECTION_LOST


class RequestTimeout(DriverError):
    kind = FailureKind.TIMEOUT


class MalformedResponse(DriverError):
    kind = FailureKind.MALFORMED_RESPONSE


MODBUS_EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    7: "negative acknowledge",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}


class DeviceException(DriverError):
    """The device answered with a Modbus exception response."""

    kind = FailureKind.DEVICE_EXCEPTION

    def __init__(self, code: int, context: str = "") -> None:
        self.code = code
        self.name = MODBUS_EXCEPTION_NAMES.get(code, "unknown exception")
        where = f" ({context})" if context else ""
        super().__init__(f"Modbus exception {code}: {self.name}{where}")

    @property
    def target_unreachable(self) -> bool:
        """A gateway answered that the unit behind it is gone (codes 10 and 11)."""
        return self.code in GATEWAY_TARGET_UNREACHABLE


GATEWAY_TARGET_UNREACHABLE = frozenset({10, 11})


def is_link_failure(exc: DriverError) -> bool:
    """True when the failure says the device cannot be reached at all, not that one request
    failed: the rest of the cycle would fail the same way, so the device is backed off."""
    if isinstance(exc, DeviceException):
        return exc.target_unreachable
    return exc.kind in LINK_FAILURE_KINDS


LINK_FAILURE_KINDS = frozenset(
    {FailureKind.CONNECT_FAILED, FailureKind.CONNECTION_LOST, FailureKind.TIMEOUT}
)
