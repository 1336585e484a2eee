"""The poller: one DeviceLoop task per enabled device, sharing links through a DriverContext."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType

from pstg.config.models import StationConfig
from pstg.drivers.base import DriverContext
from pstg.drivers.registry import create_driver
from pstg.poller.device_loop import DeviceLoop
from pstg.poller.output import PollOutput
from pstg.poller.stats import DeviceStats

log = logging.getLogger(__name__)

RESTART_DELAY = 5.0  # seconds before a crashed device loop is started again


class Poller:
    """Starts, supervises and stops the device loops of a station.

    Use as `async with Poller(config) as poller:` and consume `poller.output`.
    """

    def __init__(self, config: StationConfig, output: PollOutput | None = None) -> None:
        self.config = config
        self.output = output or PollOutput()
        self.context = DriverContext()
        self.loops: dict[str, DeviceLoop] = {}
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def stats(self) -> dict[str, DeviceStats]:
        return {device_id: loop.stats for device_id, loop in self.loops.items()}

    async def start(self) -> None:
        for device in self.config.devices:
            if not device.enabled:
                log.info("%s: disabled in config, not polled", device.id)
                continue
            driver = create_driver(device, self.context)
            self.loops[device.id] = DeviceLoop(device, driver, self.output)
        for device_loop in self.loops.values():
            task = asyncio.create_task(
                self._supervise(device_loop), name=f"poll:{device_loop.device.id}"
            )
            self._tasks.append(task)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
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
        while True:
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
