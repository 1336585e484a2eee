"""The poller: one DeviceLoop task per enabled device, sharing links through a DriverContext.

Stopping is bounded. pymodbus 3.16 awaits each response with `asyncio.wait_for`, which on
Python 3.11 swallows a cancellation that arrives in the same loop iteration as the response:
one `cancel()` is not enough to stop a busy loop. So `stop()` sets each loop's stop flag
(checked between steps), cancels again and again until every task is done, closes the
connections when the deadline nears (a request waiting on a closed line fails at once), and
gives up on stragglers after the deadline, saying so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from functools import cached_property
from types import TracebackType

from pstg.config.models import DeviceConfig, StationConfig
from pstg.config.tag_table import DeviceTags, TagTable
from pstg.drivers.base import DriverContext
from pstg.drivers.registry import create_driver
from pstg.errors import NotFound, Unavailable
from pstg.poller.device_loop import DeviceLoop
from pstg.poller.output import CollectingOutput, PollOutput
from pstg.poller.overrun_log import OverrunLog
from pstg.poller.stats import DeviceStats
from pstg.poller.writes import WriteOutcome, WriteValue, write_value

log = logging.getLogger(__name__)

RESTART_DELAY = 5.0  # seconds before a crashed device loop is started again
STOP_DEADLINE = 5.0  # seconds `stop()` waits for the loops before abandoning them
_RECANCEL_EVERY = 0.05


class Poller:
    """Starts, supervises and stops the device loops of some devices.

    `devices` are the devices to poll with their place in the station's tag table (all of a
    station's enabled devices, or a worker process's share). Use as
    `async with Poller.for_station(config, output) as poller:`.
    """

    def __init__(self, devices: Sequence[DeviceTags], output: PollOutput) -> None:
        self.devices = [entry for entry in devices if entry.device.enabled]
        self.output = output
        self.context = DriverContext()
        self.loops: dict[str, DeviceLoop] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._overruns = OverrunLog()
        self._configured = list(devices)  # disabled ones too: a write to one says so
        for entry in devices:
            if not entry.device.enabled:
                log.info("%s: disabled in config, not polled", entry.device.id)

    @cached_property
    def _device_of(self) -> dict[str, DeviceConfig]:
        """Each tag's device, for writes: built at the first write, not at start (a map per
        tag costs memory that a station nobody writes to should not pay)."""
        return {tag.name: entry.device for entry in self._configured for tag in entry.device.tags}

    @classmethod
    def for_station(
        cls,
        config: StationConfig,
        output: PollOutput | None = None,
        *,
        tags: TagTable | None = None,
    ) -> Poller:
        """A poller for every enabled device of `config` (output: a CollectingOutput)."""
        table = tags if tags is not None else TagTable.from_config(config)
        return cls(list(table.devices.values()), output or CollectingOutput())

    @property
    def stats(self) -> dict[str, DeviceStats]:
        return {device_id: loop.stats for device_id, loop in self.loops.items()}

    def build(self) -> None:
        """Create the drivers and loops (compiles every tag; blocking, CPU only)."""
        for entry in self.devices:
            device = entry.device
            driver = create_driver(device, self.context)
            self.loops[device.id] = DeviceLoop(
                device, driver, self.output, first_index=entry.first, overruns=self._overruns
            )

    async def write_tag(
        self,
        tag_name: str,
        value: WriteValue,
        *,
        read_back: bool = True,
        tolerance: float = 0.0,
        time_limit: float | None = None,
    ) -> WriteOutcome:
        """Write `value` to `tag_name` through its device's loop driver (so on its shared line,
        ahead of the poll requests waiting there); see pstg.poller.writes.

        NotFound for a tag of no device here, Unavailable when its device is disabled or the
        poller is not running, Forbidden for a tag that is not writable, Invalid for a value
        that does not fit it."""
        device = self._device_of.get(tag_name)
        if device is None:
            raise NotFound(f"no tag {tag_name!r} on a device polled here")
        if not device.enabled:
            raise Unavailable(f"tag {tag_name}: device {device.id} is disabled in the config")
        device_loop = self.loops.get(device.id)
        if device_loop is None or device_loop.stopping:
            raise Unavailable(f"tag {tag_name}: device {device.id} is not being polled")
        return await write_value(
            device_loop.driver,
            device,
            tag_name,
            value,
            read_back=read_back,
            tolerance=tolerance,
            time_limit=time_limit,
        )

    async def start(self) -> None:
        if not self.loops:
            self.build()
        for device_loop in self.loops.values():
            task = asyncio.create_task(
                self._supervise(device_loop), name=f"poll:{device_loop.device.id}"
            )
            self._tasks.append(task)

    async def stop(self, deadline: float = STOP_DEADLINE) -> None:
        """Stop every loop within about `deadline` seconds, then close the connections."""
        for device_loop in self.loops.values():
            device_loop.stopping = True
        loop = asyncio.get_running_loop()
        give_up = loop.time() + deadline
        pending = {task for task in self._tasks if not task.done()}
        closed = False
        while pending:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=_RECANCEL_EVERY)
            if pending and not closed and loop.time() > give_up - deadline / 2:
                # Half the time is gone: pull the lines from under the stuck requests.
                closed = True
                await self._close_drivers()
            if pending and loop.time() > give_up:
                log.error(
                    "%d poll loop(s) did not stop within %.0fs: %s",
                    len(pending),
                    deadline,
                    ", ".join(sorted(task.get_name() for task in pending)[:10]),
                )
                break
        self._tasks.clear()
        if not closed:
            await self._close_drivers()
        await self.context.aclose()

    async def _close_drivers(self) -> None:
        for device_loop in self.loops.values():
            try:
                await device_loop.driver.close()
            except Exception:  # closing must not stop the others from closing
                log.exception("%s: error while closing the driver", device_loop.device.id)
        await self.context.aclose()

    async def __aenter__(self) -> Poller:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @staticmethod
    async def _supervise(device_loop: DeviceLoop) -> None:
        # A bug in one device's loop (a decoder crash, an unexpected driver error) must not take
        # the other devices down: log it and start that loop again after a pause.
        while not device_loop.stopping:
            try:
                await device_loop.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "%s: poll loop crashed; restarting in %.0fs",
                    device_loop.device.id,
                    RESTART_DELAY,
                )
                await asyncio.sleep(RESTART_DELAY)
