"""Writing one tag's value to its device from the running gateway: the foundation of commands.

    check_write    refuses before anything is sent, with a domain error: the tag is not on the
                   device (NotFound), not `writable: true` (Forbidden), or the value does not
                   fit its type (Invalid)
    write_value    encodes through the tag's codec (type, scale/offset, byte and word order),
                   sends the registers in ONE request ahead of the poll requests waiting on the
                   device's line (FC5 for a coil, FC6 for one register, FC16 for more), then
                   reads the tag back at once and reports a `WriteOutcome`

Once a request may have left, nothing is raised: the outcome says `written`, `device_refused`
(a Modbus exception, with its code and name) or `failed` (link down, no answer, the time limit;
with the DriverError kind), so a caller can journal every attempt. A multi-register value is
never written half: it travels in one FC16 request, which a device applies whole or refuses.
A bit of a register is read-modify-write: the register is read, urgently, just before.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from enum import StrEnum

from pstg.codec import CodecError, TagCodec, compile_tag
from pstg.config.models import DeviceConfig, TagConfig
from pstg.drivers.base import Driver
from pstg.drivers.errors import DeviceException, DriverError, FailureKind
from pstg.drivers.modbus.functions import write_request
from pstg.drivers.planner import ReadBlock
from pstg.errors import Forbidden, Invalid, NotFound

WriteValue = float | int | bool | str
"""A value in engineering units (before the inverse of scale/offset), text for a string tag."""


class WriteStatus(StrEnum):
    WRITTEN = "written"
    """The device confirmed the write (a read-back, when asked, is in the outcome)."""
    DEVICE_REFUSED = "device_refused"
    """The device answered with a Modbus exception: nothing was written."""
    FAILED = "failed"
    """No confirmation: the link is down, the device did not answer, or the time ran out.
    Whether a request that left was applied is unknown."""


@dataclass(frozen=True)
class WriteOutcome:
    """What became of one write. Plain data: it travels from a worker process as a pickle."""

    tag: str
    device: str
    value: WriteValue
    """The value asked for."""
    status: WriteStatus
    words: tuple[int, ...] = ()
    """The registers (or the coil's bit) sent; empty when nothing was encoded or sent."""
    function_code: int | None = None
    """The one request carrying them: 5, 6 or 16."""
    read_back: float | str | None = None
    """The tag decoded from a read right after the write (None: not read, or no reading)."""
    confirmed: bool | None = None
    """The read-back equals what the sent words decode to, within the tolerance; None when
    there was no read-back (not asked, or it failed: see `message`)."""
    exception_code: int | None = None
    """The Modbus exception code of a device_refused write (e.g. 3, illegal data value)."""
    failure: FailureKind | None = None
    """The DriverError kind of a failed write or read-back; None for a worker lost."""
    message: str = ""
    seconds: float = 0.0
    """From the start of the write to its outcome (waiting for the line included)."""


def default_timeout(device: DeviceConfig, *, read_back: bool) -> float:
    """The time limit of a write: the request on the wire before it, the write and the
    read-back, each at most the device's timeout (a poll request ahead may be retried)."""
    requests = 2 + device.retries + (1 if read_back else 0)
    return requests * device.timeout


def check_write(
    device: DeviceConfig, tag_name: str, value: WriteValue
) -> tuple[TagConfig, TagCodec]:
    """The tag and its codec, when `value` may be written to `tag_name`; a domain error else."""
    tag = next((tag for tag in device.tags if tag.name == tag_name), None)
    if tag is None:
        raise NotFound(f"no tag {tag_name!r} on device {device.id}")
    if not tag.writable:
        raise Forbidden(f"tag {tag_name} is read-only: its config does not say writable: true")
    codec = compile_tag(tag, device)
    try:
        codec.encode(value, current=[0] if codec.read_modify_write else None)
    except CodecError as exc:
        raise Invalid(f"cannot write {value!r} to {exc}") from None
    return tag, codec


async def write_value(
    driver: Driver,
    device: DeviceConfig,
    tag_name: str,
    value: WriteValue,
    *,
    read_back: bool = True,
    tolerance: float = 0.0,
    time_limit: float | None = None,
) -> WriteOutcome:
    """Write `value` to `tag_name` through `driver` and learn the outcome within `time_limit`
    seconds (default: `default_timeout`; it travels with the write to a worker process, hence
    a parameter); see the module docstring. Raises only `check_write`'s errors."""
    tag, codec = check_write(device, tag_name, value)
    block = ReadBlock(tag.source, tag.address, tag.register_count, tags=(tag,))
    limit = time_limit if time_limit is not None else default_timeout(device, read_back=read_back)
    began = time.perf_counter()
    words: list[int] = []
    function_code: int | None = None  # once the request is built and about to leave
    written = False

    def outcome(
        status: WriteStatus,
        *,
        read_back: float | str | None = None,
        confirmed: bool | None = None,
        exception_code: int | None = None,
        failure: FailureKind | None = None,
        message: str = "",
    ) -> WriteOutcome:
        return WriteOutcome(
            tag=tag_name,
            device=device.id,
            value=value,
            status=status,
            words=tuple(words),
            function_code=function_code,
            read_back=read_back,
            confirmed=confirmed,
            exception_code=exception_code,
            failure=failure,
            message=message,
            seconds=time.perf_counter() - began,
        )

    def failed(kind: FailureKind, message: str) -> WriteOutcome:
        if written:  # the device confirmed the write; only the read-back is missing
            return outcome(
                WriteStatus.WRITTEN, failure=kind, message=f"written; read-back: {message}"
            )
        return outcome(WriteStatus.FAILED, failure=kind, message=message)

    try:
        async with asyncio.timeout(limit):
            if codec.read_modify_write:
                current = await driver.read(block, urgent=True)
                words = codec.encode(value, current=current)
            else:
                words = codec.encode(value)
            # The request the driver sends (as for `pstg poll --write`): FC5, FC6 or one FC16.
            function_code = int(write_request(tag.source, tag.address, words).function_code)
            await driver.write(tag.source, tag.address, words)
            written = True
            if not read_back:
                return outcome(WriteStatus.WRITTEN)
            got = await driver.read(block, urgent=True)
    except TimeoutError:
        return failed(FailureKind.TIMEOUT, f"no outcome within the time limit of {limit:g}s")
    except DeviceException as exc:
        if written:
            return failed(exc.kind, str(exc))
        return outcome(
            WriteStatus.DEVICE_REFUSED,
            exception_code=exc.code,
            failure=exc.kind,
            message=str(exc),
        )
    except DriverError as exc:
        return failed(exc.kind, str(exc))
    expected = codec.decode(words).value
    decoded = codec.decode(got).value
    confirmed = _matches(decoded, expected, tolerance)
    return outcome(
        WriteStatus.WRITTEN,
        read_back=decoded,
        confirmed=confirmed,
        message="" if confirmed else f"read back {decoded!r}, expected {expected!r}",
    )


def _matches(got: float | str | None, expected: float | str | None, tolerance: float) -> bool:
    if isinstance(got, int | float) and isinstance(expected, int | float):
        return abs(got - expected) <= tolerance
    return got is not None and got == expected
