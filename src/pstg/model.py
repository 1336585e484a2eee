"""Canonical types shared by every stage of the data path.

drivers -> poller -> (processors, storage, api) all speak in these types, so none of them
needs to know how another stage represents a signal internally.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import NamedTuple


class Quality(StrEnum):
    """OPC UA style quality of a sample."""

    GOOD = "good"
    UNCERTAIN = "uncertain"
    BAD = "bad"


class QualityReason(StrEnum):
    """Why a sample is not good. `NONE` for good samples."""

    NONE = ""
    COMM_FAILURE = "comm_failure"  # connection refused, reset or lost
    TIMEOUT = "timeout"  # the device did not answer in time
    DEVICE_FAILURE = "device_failure"  # Modbus exception response
    MALFORMED_RESPONSE = "malformed_response"  # short, garbled or mismatched frame
    CONFIG_ERROR = "config_error"  # the tag cannot be decoded as configured
    OUT_OF_RANGE = "out_of_range"  # outside the engineering range
    NO_READING = "no_reading"  # NaN/inf or a configured sentinel such as 0x8000
    STALE = "stale"  # no fresh value within the expected time
    STOPPED = "stopped"  # the gateway stopped (or crashed): nothing was read from here on


class RegisterTable(StrEnum):
    """The four Modbus data tables; the value is the config spelling."""

    HOLDING_REGISTER = "holding_register"
    INPUT_REGISTER = "input_register"
    COIL = "coil"
    DISCRETE_INPUT = "discrete_input"

    @property
    def is_bit_table(self) -> bool:
        return self in _BIT_TABLES

    @property
    def is_writable(self) -> bool:
        return self in _WRITABLE_TABLES


# Module constants, not `RegisterTable.COIL` in the properties: looking a member up on an enum
# class costs about a microsecond, and a big station's load asks these per tag many times.
_BIT_TABLES = frozenset({RegisterTable.COIL, RegisterTable.DISCRETE_INPUT})
_WRITABLE_TABLES = frozenset({RegisterTable.HOLDING_REGISTER, RegisterTable.COIL})


class DataType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    BOOL = "bool"
    STRING = "string"

    @property
    def fixed_register_count(self) -> int | None:
        """Registers one value occupies; None for strings (their length is configured)."""
        return _REGISTER_COUNT.get(self)


_REGISTER_COUNT = {
    DataType.INT16: 1,
    DataType.UINT16: 1,
    DataType.BOOL: 1,
    DataType.INT32: 2,
    DataType.UINT32: 2,
    DataType.FLOAT32: 2,
    DataType.INT64: 4,
    DataType.UINT64: 4,
    DataType.FLOAT64: 4,
}


class Endian(StrEnum):
    """Order of bytes within a register, or of registers within a value."""

    BIG = "big"
    LITTLE = "little"


# Compact codes for quality and reason, as batches carry them and the database stores them.
# Stored codes: never renumber; a new reason gets the next free number.
QUALITY_CODES: dict[Quality, int] = {Quality.GOOD: 0, Quality.UNCERTAIN: 1, Quality.BAD: 2}
QUALITY_OF_CODE: dict[int, Quality] = {code: q for q, code in QUALITY_CODES.items()}
GOOD_CODE = QUALITY_CODES[Quality.GOOD]
UNCERTAIN_CODE = QUALITY_CODES[Quality.UNCERTAIN]
BAD_CODE = QUALITY_CODES[Quality.BAD]
REASON_CODES: dict[QualityReason, int] = {
    QualityReason.NONE: 0,
    QualityReason.COMM_FAILURE: 1,
    QualityReason.TIMEOUT: 2,
    QualityReason.DEVICE_FAILURE: 3,
    QualityReason.MALFORMED_RESPONSE: 4,
    QualityReason.CONFIG_ERROR: 5,
    QualityReason.OUT_OF_RANGE: 6,
    QualityReason.NO_READING: 7,
    QualityReason.STALE: 8,
    QualityReason.STOPPED: 9,
}
REASON_OF_CODE: dict[int, QualityReason] = {n: reason for reason, n in REASON_CODES.items()}


def utc_now() -> datetime:
    """Timezone-aware UTC now; every timestamp in PSTG is made here or parsed as UTC."""
    return datetime.now(UTC)


class Sample(NamedTuple):
    """One observation of a tag.

    `value` is a float for numbers and booleans (0/1), a str for string tags, and None when
    the quality is bad: a failed read never invents a value. A NamedTuple rather than a
    dataclass because the poll loop makes one per tag per cycle and tuple creation is the
    cheapest immutable record Python has.
    """

    tag: str
    ts: datetime
    value: float | str | None
    quality: Quality = Quality.GOOD
    reason: QualityReason = QualityReason.NONE

    @classmethod
    def bad(cls, tag: str, ts: datetime, reason: QualityReason) -> Sample:
        return cls(tag, ts, None, Quality.BAD, reason)


class EventKind(StrEnum):
    """What happened, for the events journal."""

    DEVICE_CONNECTED = "device_connected"
    DEVICE_DISCONNECTED = "device_disconnected"
    SERVICE_STARTED = "service_started"
    SERVICE_STOPPED = "service_stopped"
    CONFIG_LOADED = "config_loaded"
    SPOOL_SPILLED = "spool_spilled"  # database writes failed; samples go to the disk spool
    SPOOL_REPLAYED = "spool_replayed"  # the database is back and the spool was written to it
    STORAGE_BEHIND = "storage_behind"  # samples arrive faster than the database takes them
    ALARM = "alarm"  # an alarm changed state (the alarm journal has the details)
    COMMAND = "command"  # a command was selected, operated, refused... (the command journal)
    NOTIFICATION = "notification"  # a self-test or test notification's outcome (its journal)
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"


OPERATIONAL_EVENT_KINDS = frozenset(
    {
        EventKind.DEVICE_CONNECTED,
        EventKind.DEVICE_DISCONNECTED,
        EventKind.SERVICE_STARTED,
        EventKind.SERVICE_STOPPED,
        EventKind.CONFIG_LOADED,
        EventKind.SPOOL_SPILLED,
        EventKind.SPOOL_REPLAYED,
        EventKind.STORAGE_BEHIND,
        EventKind.ALARM,
        EventKind.COMMAND,
        EventKind.NOTIFICATION,
    }
)
"""Event kinds every role may read. Every other kind (logins: the typed user name, the
client's address) is a security event, for engineers and admins only (docs/audit.md): a new
kind stays hidden from viewers and operators unless it is added here."""


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened at a point in time, for the events journal."""

    ts: datetime
    kind: EventKind
    source: str  # what it happened to: a device id, a tag name, a user ...
    message: str
    attributes: dict[str, str] | None = None
    journaled: bool = False
    """Already in the events journal, written with its source's own records (an alarm
    transition with its journal row): storage must not write it again; others may use it."""
