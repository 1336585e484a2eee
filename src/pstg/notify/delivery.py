"""Delivery: notifications queued, sent by workers of their own, retried, journaled.

`submit` never waits (the pipeline calls it from the event loop, between poll batches): the
notification joins its channel's bounded queue. Each channel has one worker, so a person hears
of an alarm, its acknowledgement and its clear in that order, and a channel that is down
(retrying) holds up only itself. A full queue is not a silent loss: the notification is
journaled as `dropped` and reported as failed, which raises `notification_failed`. The worker
tries each notification up to `retry.attempts` times, waiting `retry.first` after the first
failure and twice as long after each next one (at most `retry.max`); a permanent failure (a
refused recipient, an HTTP 404) ends at once. Every try is a journal row.

`on_done` hears the end of each notification, delivered or not: the sink turns that into the
notification_failed alarm's condition. `deliver` sends one notification now and returns how it
went (the test notification, the self-test).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pstg.config.notifications import RetryConfig
from pstg.notify.channels.base import Channel, DeliveryError
from pstg.notify.journal import Attempt, Result
from pstg.notify.message import Digest, Notice, subject
from pstg.notify.planner import Outgoing

log = logging.getLogger("pstg.notify")

Clock = Callable[[], datetime]
Record = Callable[[Sequence[Attempt]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one notification ended."""

    outgoing: Outgoing
    notification_id: str
    delivered: bool
    attempts: int
    error: str | None = None
    detail: str = ""


OnDone = Callable[[Outcome], None]


class Deliverer:
    """See the module docstring."""

    def __init__(
        self,
        channels: Mapping[str, Channel],
        *,
        retry: RetryConfig,
        queue_size: int,
        record: Record,
        on_done: OnDone,
        clock: Clock,
    ) -> None:
        self.channels = dict(channels)
        self.retry = retry
        self._queues: dict[str, asyncio.Queue[tuple[Outgoing, str]]] = {
            name: asyncio.Queue(queue_size) for name in self.channels
        }
        self._record = record
        self._on_done = on_done
        self._clock = clock
        self._workers: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self._busy = 0
        self.delivered = 0
        self.failed = 0
        self.dropped = 0

    @property
    def waiting(self) -> int:
        return sum(queue.qsize() for queue in self._queues.values())

    async def start(self) -> None:
        self._workers = [
            asyncio.create_task(self._work(queue), name=f"notify {name}")
            for name, queue in self._queues.items()
        ]

    def submit(self, outgoing: Outgoing) -> None:
        """Queue `outgoing` (never waits); a full queue journals it as dropped and reports it
        failed."""
        notification_id = str(uuid.uuid4())
        queue = self._queues.get(outgoing.channel)
        if queue is None:
            error = f"no channel {outgoing.channel!r}"
            self._finish(outgoing, notification_id, Result.FAILED, 0, error, "")
            return
        try:
            queue.put_nowait((outgoing, notification_id))
        except asyncio.QueueFull:
            self.dropped += 1
            error = f"the {outgoing.channel} queue is full ({queue.maxsize} waiting)"
            log.warning("notification to %s dropped: %s", outgoing.recipient.name, error)
            self._finish(outgoing, notification_id, Result.DROPPED, 0, error, "")

    async def deliver(self, outgoing: Outgoing, *, attempts: int | None = None) -> Outcome:
        """Send `outgoing` now, with up to `attempts` tries (default: the retry config's)."""
        return await self._deliver(outgoing, str(uuid.uuid4()), attempts or self.retry.attempts)

    async def drain(self, seconds: float) -> bool:
        """Wait until the queue is empty and no notification is being sent (True), or
        `seconds` (False)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self.waiting or self._busy:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def close(self, drain: float = 5.0) -> None:
        """Send what is queued for up to `drain` seconds; journal the rest as not sent."""
        await self.drain(drain)
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers = []
        for queue in self._queues.values():
            while not queue.empty():
                outgoing, notification_id = queue.get_nowait()
                error = "the gateway stopped first"
                self._finish(outgoing, notification_id, Result.NOT_SENT, 0, error, "")
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        for channel in self.channels.values():
            await channel.close()

    async def _work(self, queue: asyncio.Queue[tuple[Outgoing, str]]) -> None:
        while True:
            outgoing, notification_id = await queue.get()
            self._busy += 1
            try:
                await self._deliver(outgoing, notification_id, self.retry.attempts)
            except Exception:  # a bug must not stop the worker: the next alarm still goes out
                log.exception("notification to %s failed unexpectedly", outgoing.recipient.name)
            finally:
                self._busy -= 1

    async def _deliver(self, outgoing: Outgoing, notification_id: str, tries: int) -> Outcome:
        channel = self.channels.get(outgoing.channel)
        if channel is None:
            error = f"no channel {outgoing.channel!r}"
            return self._finish(outgoing, notification_id, Result.FAILED, 1, error, "")
        wait = self.retry.first
        for attempt in range(1, tries + 1):
            try:
                detail = await channel.send(
                    outgoing.content, outgoing.recipient,
                    notification_id=notification_id, now=self._clock(),
                )  # fmt: skip
            except DeliveryError as exc:
                last = attempt == tries or exc.permanent
                if last:
                    return self._finish(
                        outgoing, notification_id, Result.FAILED, attempt, exc.message, ""
                    )
                await self._journal(
                    outgoing, notification_id, Result.RETRYING, attempt, exc.message, ""
                )
                await asyncio.sleep(wait)
                wait = min(wait * 2, self.retry.max)
            else:
                return self._finish(
                    outgoing, notification_id, Result.DELIVERED, attempt, None, detail
                )
        raise AssertionError("unreachable: the last attempt returns")

    def _finish(
        self,
        outgoing: Outgoing,
        notification_id: str,
        result: Result,
        attempt: int,
        error: str | None,
        detail: str,
    ) -> Outcome:
        delivered = result is Result.DELIVERED
        if delivered:
            self.delivered += 1
        elif result is not Result.DROPPED:
            self.failed += 1
            log.warning(
                "notification to %s by %s failed after %d attempt(s): %s",
                outgoing.recipient.name, outgoing.channel, attempt, error,
            )  # fmt: skip
        task = asyncio.get_running_loop().create_task(
            self._journal(outgoing, notification_id, result, attempt, error, detail)
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        outcome = Outcome(outgoing, notification_id, delivered, attempt, error, detail)
        self._on_done(outcome)
        return outcome

    async def _journal(
        self,
        outgoing: Outgoing,
        notification_id: str,
        result: Result,
        attempt: int,
        error: str | None,
        detail: str,
    ) -> None:
        content = outgoing.content
        ids = content.alarm_ids
        route = content.route if isinstance(content, Notice) else None
        level = content.level + 1 if isinstance(content, Notice) else None
        kind = "digest" if isinstance(content, Digest) else content.kind.value
        row = Attempt(
            ts=self._clock(), notification_id=notification_id, channel=outgoing.channel,
            recipient=outgoing.recipient.name, kind=kind, alarm_id=ids[0] if ids else None,
            alarms=ids, route=route, level=level, attempt=attempt, result=result, error=error,
            detail=(f"{detail}: " if detail else "") + subject(content),
        )  # fmt: skip
        try:
            await self._record([row])
        except Exception as exc:  # the database is away: the log keeps the attempt
            log.warning(
                "notification journal not written (%s): %s %s to %s attempt %d: %s",
                exc, result.value, outgoing.channel, outgoing.recipient.name, attempt, error,
            )  # fmt: skip
