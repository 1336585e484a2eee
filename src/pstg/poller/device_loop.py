"""The poll loop of one device: schedule, read the plan, decode, classify failures, back off.

Each device runs in its own task so a dead or slow device never delays the others. Devices on a
shared line are serialized by their driver's link; a dead unit there is backed off so its
timeouts cannot starve its neighbours. Each cycle hands one `Batch` to the output: a row per
tag, decoded block by block into columns, bad rows with the reason for blocks that failed.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Sequence

from pstg.batch import Batch
from pstg.codec import BlockDecoder, Member, TagCodec, compile_tag
from pstg.config.models import DeviceConfig
from pstg.drivers.base import ConnectionState, Driver
from pstg.drivers.errors import DriverError, FailureKind, is_link_failure
from pstg.drivers.planner import ReadBlock, ReadPlan, plan_device
from pstg.model import Event, EventKind, QualityReason, utc_now
from pstg.poller.backoff import Backoff
from pstg.poller.output import PollOutput
from pstg.poller.overrun_log import OverrunLog
from pstg.poller.schedule import next_tick
from pstg.poller.stats import DeviceStats, LinkStatus

log = logging.getLogger(__name__)


def _now_micros() -> int:
    return time.time_ns() // 1000


class DeviceLoop:
    """Polls one device until stopped, emitting a batch per cycle and link events.

    `first_index` is the tag-table index of the device's first tag (pstg.config.tag_table):
    the device's tags are numbered from there in config order.
    """

    def __init__(
        self,
        device: DeviceConfig,
        driver: Driver,
        output: PollOutput,
        *,
        first_index: int = 0,
        plan: ReadPlan | None = None,
        rng: random.Random | None = None,
        overruns: OverrunLog | None = None,
    ) -> None:
        """`overruns`: where overruns are reported, shared by a poller's loops."""
        self.device = device
        self.driver = driver
        self.output = output
        self.plan = plan or plan_device(device)
        self.codecs: dict[str, TagCodec] = {
            tag.name: compile_tag(tag, device) for tag in device.tags
        }
        index_of = {tag.name: first_index + n for n, tag in enumerate(device.tags)}
        self._decoders = [
            BlockDecoder(
                block.count,
                [
                    Member(
                        tag.name,
                        index_of[tag.name],
                        tag.address - block.address,
                        self.codecs[tag.name],
                    )
                    for tag in block.tags
                ],
            )
            for block in self.plan.blocks
        ]
        self.stats = DeviceStats(device_id=device.id)
        self._backoff = Backoff(device.backoff_initial, device.backoff_max, rng=rng)
        self.stopping = False
        """Set by the poller to stop: the loop ends at its next step, cancelled or not."""
        self._overruns = overruns if overruns is not None else OverrunLog()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.device.poll_interval
        start = loop.time()
        index = 0
        while not self.stopping:
            delay = await self.poll_once()
            now = loop.time()
            if delay > 0:
                # Backing off: wake at the first regular tick after the delay, so a recovered
                # device is back on its original grid.
                index = max(index + 1, math.ceil((now + delay - start) / interval))
                wake = start + index * interval
            else:
                tick = next_tick(start, interval, index, now)
                if tick.skipped:
                    self._overran(interval, tick.skipped, now)
                index, wake = tick.index, tick.at
            self.stats.retry_in = max(0.0, wake - now) if delay > 0 else None
            if self.stopping:
                return
            await asyncio.sleep(max(0.0, wake - loop.time()))

    def _overran(self, interval: float, skipped: int, now: float) -> None:
        """Count an overrun and report it to the poller's OverrunLog, which warns at the
        first and then at most once a minute, so an overloaded gateway says so without
        flooding the log."""
        stats = self.stats
        stats.overruns += 1
        stats.skipped_ticks += skipped
        self._overruns.overran(self.device.id, interval, stats.skipped_ticks, now)

    async def poll_once(self) -> float:
        """Run one poll cycle now; returns the backoff delay before the next attempt (0: none).

        `run` calls it on schedule; benchmarks and diagnostics call it directly."""
        began = time.perf_counter()
        stats = self.stats
        stats.cycles += 1
        stats.last_poll_at = utc_now()
        parts: list[Batch] = []
        answered = False
        link_failure: DriverError | None
        try:
            if self.driver.state is not ConnectionState.CONNECTED:
                await self.driver.connect()
        except DriverError as exc:
            self._record_failure(exc)
            link_failure = exc
            ts = _now_micros()
            parts.extend(decoder.bad(ts, exc.quality_reason) for decoder in self._decoders)
        else:
            answered, link_failure = await self._read_plan(parts)
        stats.last_cycle_duration = time.perf_counter() - began
        batch = Batch.concat(parts)
        stats.samples += len(batch)
        if len(batch):
            self.output.emit_batch(batch)
        if link_failure is not None and not answered:
            return self._link_down(link_failure)
        self._link_up()
        return 0.0

    async def _read_plan(self, parts: list[Batch]) -> tuple[bool, DriverError | None]:
        """Read and decode every block; returns whether the device answered at all, and the
        failure that says the link is broken, if one did."""
        blocks = self.plan.blocks
        decoders = self._decoders
        answered = False
        for position, block in enumerate(blocks):
            try:
                words = await self._read(block)
            except DriverError as exc:
                self._record_failure(exc)
                ts = _now_micros()
                if is_link_failure(exc):
                    # the rest of the cycle would fail the same way: mark it bad at once
                    parts.extend(d.bad(ts, exc.quality_reason) for d in decoders[position:])
                    return answered, exc
                answered = True  # an exception or a garbled answer: the device is there
                parts.append(decoders[position].bad(ts, exc.quality_reason))
            else:
                answered = True
                parts.append(self._decode_block(position, words))
        return answered, None

    async def _read(self, block: ReadBlock) -> Sequence[int]:
        self.stats.requests += 1
        sent = time.perf_counter()
        words = await self.driver.read(block)
        rtt = self.stats.last_rtt = time.perf_counter() - sent
        self.stats.rtt.observe(rtt)
        self.stats.responses += 1
        return words

    def _decode_block(self, position: int, words: Sequence[int]) -> Batch:
        ts = _now_micros()  # when the response arrived
        self.stats.last_success_at = utc_now()
        batch, failures = self._decoders[position].decode(words, ts)
        for name, exc in failures:
            log.warning("%s: cannot decode %s: %s", self.device.id, name, exc)
        return batch

    def bad_batch(self, reason: QualityReason) -> Batch:
        """Every tag of the device bad for `reason`, now (the end-of-data marker at a stop)."""
        ts = _now_micros()
        return Batch.concat([decoder.bad(ts, reason) for decoder in self._decoders])

    def _record_failure(self, exc: DriverError) -> None:
        stats = self.stats
        stats.errors[exc.kind] += 1
        stats.last_error = str(exc) or exc.kind.value
        stats.last_error_kind = exc.kind
        stats.last_error_at = utc_now()
        # First failure of a run loudly, repeats quietly: a dead device must not flood the log.
        # A broken link is announced by its device_disconnected event (logged by the log
        # sink), so here it is a debug line.
        loud = stats.consecutive_failures == 0 and not is_link_failure(exc)
        level = logging.WARNING if loud else logging.DEBUG
        log.log(level, "%s: %s: %s", self.device.id, exc.kind.value, stats.last_error)

    def _link_down(self, exc: DriverError) -> float:
        stats = self.stats
        stats.consecutive_failures += 1
        if stats.status is not LinkStatus.DOWN:
            stats.status = LinkStatus.DOWN
            self._emit(EventKind.DEVICE_DISCONNECTED, f"{exc.kind.value}: {exc}", exc.kind)
        # The first failure retries on the next tick (a single lost frame is common on radio and
        # RS-485 links); from the second consecutive one on, back off exponentially.
        if stats.consecutive_failures < 2:
            return 0.0
        return self._backoff.next_delay()

    def _link_up(self) -> None:
        stats = self.stats
        stats.consecutive_failures = 0
        self._backoff.reset()
        if stats.status is not LinkStatus.UP:
            was_down = stats.status is LinkStatus.DOWN
            stats.status = LinkStatus.UP
            message = "connection restored" if was_down else "connected"
            self._emit(EventKind.DEVICE_CONNECTED, message, None)

    def _emit(self, kind: EventKind, message: str, failure: FailureKind | None) -> None:
        attributes = {"driver": self.device.driver}
        if failure is not None:
            attributes["failure_kind"] = failure.value
        self.output.emit_event(Event(utc_now(), kind, self.device.id, message, attributes))
