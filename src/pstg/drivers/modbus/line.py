"""A Modbus line: one link to the field and the queue of requests on it.

A line is a TCP connection (to a device or to a Modbus TCP gateway), a TCP connection carrying RTU
frames (a serial-to-Ethernet converter), or a serial port. Every device on the line shares it:
requests go out one at a time, each with its own unit id, with the line's
`pause_between_requests` of quiet time between them. Requests take turns in arrival order, except
urgent ones (writes, and the read-back after a write) which go before every waiting poll request:
an operator's write waits for at most the one request on the wire, never for a queue of polls.

The line opens on demand and is dropped after a timeout, a malformed answer, a cancelled request
or a lost connection; the next request opens it afresh. That is how a late answer to an abandoned
request is kept from being read as the answer to the next one (RTU frames carry no transaction id
to tell them apart). `retries` resends happen here, each on a fresh connection; backoff and
reconnect schedules belong to the poller.

pymodbus 3.16 facts this module relies on (checked against its source):

- `reconnect_delay=0` disables the client's own reconnect task (`ModbusProtocol.connection_lost`
  only schedules one when it is non-zero), and `retries=0` its own resends.
- `client.connect()` swallows the OSError and returns False, which would hide "refused" versus
  "no such port". We await the transport factory `client.ctx.call_create()` (what `connect()` runs
  inside) to get the real error, and learn that the link is up from the `trace_connect` hook.
- A dropped connection does not fail the request in flight: pymodbus waits for its own timeout.
  We race the request against the `trace_connect(False)` notification instead.
- An answer pymodbus cannot decode raises inside `data_received`; asyncio logs "Fatal error:
  protocol.data_received() call failed" and closes the connection. Answers with a wrong
  transaction or unit id, and RTU frames with a bad CRC, are skipped silently. The
  `trace_packet` hook shows us those bytes, so both cases are reported as MalformedResponse.
- The serial transport opens the port with pyserial's `serial_for_url` (any pyserial URL works)
  and then sets `timeout = 0`, which reconfigures the port: settings the port cannot take raise
  `termios.error` there on POSIX (not an OSError), caught with the other open errors.

What a serial line cannot tell (see docs/drivers.md): pyserial clears INPCK and PARMRK, so a
character with a parity or framing error reaches us as the bytes the UART sampled, unmarked.
A wrong parity or baud rate therefore shows as a garbled answer (bytes that form no frame with
a valid CRC) when the device answers, and as silence when the device cannot read the request;
the messages of both name the line's settings.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pymodbus.exceptions import ModbusException
from pymodbus.pdu import ModbusPDU

from pstg.drivers.errors import (
    ConnectionLost,
    MalformedResponse,
    RequestTimeout,
)
from pstg.drivers.modbus import errors
from pstg.drivers.modbus.endpoints import Endpoint
from pstg.drivers.modbus.functions import Request

log = logging.getLogger(__name__)

# pymodbus keeps its own response timeout; ours (asyncio) must always fire first, so pymodbus's
# is set well above the longest timeout of the devices on the line.
_MIN_LIBRARY_TIMEOUT = 10.0


class _Hooks:
    """What one connection saw, through pymodbus's trace hooks."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.stray_bytes = 0
        """Bytes received since the last request went out that did not decode into an answer."""

    def on_connect(self, connected: bool) -> None:
        future = self.opened if connected else self.lost
        if not future.done():
            future.set_result(None)

    def on_packet(self, sending: bool, data: bytes) -> bytes:
        # Receiving, `data` is pymodbus's whole buffer of not yet decoded bytes.
        self.stray_bytes = 0 if sending else len(data)
        return data

    def on_pdu(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        if not sending:
            self.stray_bytes = 0
        return pdu


class _Connection:
    """One opened transport of a line: a fresh pymodbus client and its hooks."""

    def __init__(self, endpoint: Endpoint, library_timeout: float) -> None:
        self.hooks = _Hooks()
        self.client = endpoint.make_client(library_timeout, self.hooks)

    @property
    def alive(self) -> bool:
        return self.hooks.opened.done() and not self.hooks.lost.done() and self.client.connected

    async def open(self) -> None:
        await self.client.ctx.call_create()
        # TCP is up once the call returns; a serial transport reports itself a few callbacks later.
        await self.hooks.opened

    def close(self) -> None:
        self.hooks.on_connect(False)  # wakes a request still waiting on this connection
        self.client.close()


class _Turns:
    """The line's lock with a fast lane: a released turn goes to the first urgent waiter, else
    to the first ordinary one. The turn is handed over directly, so nobody slips in between."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._ordinary: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if not self._held:
            self._held = True
            return
        waiter = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._ordinary
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed the turn as we were cancelled: pass it on
            elif waiter in queue:
                queue.remove(waiter)
            raise

    def _release(self) -> None:
        for queue in (self._urgent, self._ordinary):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._held = False


class ModbusLine:
    """One physical link shared by the devices on it; see the module docstring."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.pause = 0.0
        self._library_timeout = _MIN_LIBRARY_TIMEOUT
        self._users = 0
        self._turns = _Turns()
        self._connection: _Connection | None = None
        self._quiet_until = 0.0

    def __repr__(self) -> str:
        state = "connected" if self.connected else "disconnected"
        return f"<ModbusLine {self.name} {state}, {self._users} user(s)>"

    @property
    def name(self) -> str:
        return self.endpoint.name

    @property
    def connected(self) -> bool:
        return self._connection is not None and self._connection.alive

    @property
    def users(self) -> int:
        return self._users

    def adopt(self, *, pause: float, timeout: float) -> None:
        """Take a device's settings into account: the longest pause of all devices applies."""
        self.pause = max(self.pause, pause)
        self._library_timeout = max(self._library_timeout, 2 * timeout + 1.0)

    def join(self) -> None:
        self._users += 1

    def leave(self) -> None:
        """One device is done with the line; the last one closes it."""
        self._users = max(0, self._users - 1)
        if self._users == 0:
            self._drop()

    async def open(self, connect_timeout: float) -> None:
        """Open the link unless it is open; raise ConnectFailed."""
        if self.connected:
            return
        async with self._turns.turn():
            if not self.connected:
                await self._open(connect_timeout)

    async def request(
        self,
        unit: int,
        request: Request,
        *,
        response_timeout: float,
        retries: int = 0,
        urgent: bool = False,
    ) -> list[int]:
        """Send `request` to `unit` in turn with the other devices; the registers or bits read.

        A timeout or a garbled answer is retried up to `retries` times on a fresh connection.
        `urgent` requests go before every waiting request that is not.
        """
        where = f"unit {unit} at {self.name}"
        async with self._turns.turn(urgent=urgent):
            attempt = 0
            while True:
                try:
                    return await self._attempt(unit, request, response_timeout, where)
                except (RequestTimeout, MalformedResponse) as exc:
                    if attempt >= retries:
                        raise
                    attempt += 1
                    log.debug("%s: %s; retry %d of %d", where, exc, attempt, retries)

    async def aclose(self) -> None:
        """Close the link whoever still uses it (DriverContext.aclose calls this)."""
        self._drop()

    async def _attempt(
        self, unit: int, request: Request, response_timeout: float, where: str
    ) -> list[int]:
        loop = asyncio.get_running_loop()
        quiet = self._quiet_until - loop.time()
        if quiet > 0:
            await asyncio.sleep(quiet)
        try:
            if not self.connected:
                await self._open(response_timeout)
            assert self._connection is not None
            response = await self._exchange(
                self._connection, unit, request, response_timeout, where
            )
        finally:
            self._quiet_until = loop.time() + self.pause
        try:
            return request.result(response, where)
        except MalformedResponse:
            self._drop()  # whatever confused the device or gateway, start the next one afresh
            raise

    async def _open(self, connect_timeout: float) -> None:
        self._drop()
        connection = _Connection(self.endpoint, self._library_timeout)
        try:
            async with asyncio.timeout(connect_timeout):
                await connection.open()
        except TimeoutError as exc:  # before OSError: TimeoutError is one
            connection.close()
            raise errors.connect_timed_out(self.name) from exc
        except self.endpoint.open_errors as exc:
            connection.close()
            raise self.endpoint.connect_failed(exc) from exc
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        log.debug("%s: line opened", self.name)

    async def _exchange(
        self,
        connection: _Connection,
        unit: int,
        request: Request,
        response_timeout: float,
        where: str,
    ) -> ModbusPDU:
        # The request is awaited in this task under asyncio.timeout: no helper task and no
        # asyncio.wait per request, which on loopback cost as much as pymodbus itself. A dropped
        # connection cancels the wait at once (pymodbus would sit out its own timeout).
        hooks = connection.hooks
        task = asyncio.current_task()
        assert task is not None
        waiting, lost = True, False

        def on_lost(_: object) -> None:
            nonlocal lost
            # Callbacks run a loop iteration later: by then the request may be over.
            if waiting:
                lost = True
                task.cancel()

        hooks.lost.add_done_callback(on_lost)
        try:
            async with asyncio.timeout(response_timeout):
                return await request.send(connection.client, unit)
        except TimeoutError:
            pass
        except asyncio.CancelledError as exc:
            if lost:
                task.uncancel()
            elif task.cancelling():  # cancelled from outside: the connection is spoilt
                self._drop()
                raise
            else:  # not by anyone's request: pymodbus gave up on the request
                self._drop()
                raise ConnectionLost(f"request to {where} abandoned by the transport") from exc
        except (ModbusException, OSError) as exc:
            self._drop()
            raise errors.from_library(exc, where) from exc
        finally:
            waiting = False
            hooks.lost.remove_done_callback(on_lost)
        lost, stray_bytes = lost or hooks.lost.done(), hooks.stray_bytes
        self._drop()
        what = request.describe()
        if stray_bytes:
            outcome = "then the connection closed" if lost else f"within {response_timeout:g}s"
            raise MalformedResponse(
                f"garbled or mismatched answer from {where}: {stray_bytes} bytes that are "
                f"no valid answer, {outcome} ({what}){self.endpoint.garbled_hint}"
            )
        if lost:
            raise ConnectionLost(f"connection to {self.name} lost during {what} for unit {unit}")
        raise RequestTimeout(
            f"no answer from {where} within {response_timeout:g}s ({what})"
            f"{self.endpoint.silence_hint}"
        )

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
            log.debug("%s: line closed", self.name)
