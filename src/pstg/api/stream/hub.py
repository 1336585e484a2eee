"""The live stream's one producer and its subscribers (GET /api/v1/stream).

One task (started with the first subscriber, ended with the last) wakes when the live view
takes a poll batch (at most every `VALUES_INTERVAL`, and at least that often for alarms,
devices and the ping) and asks it what changed since the last `values` message
(`LiveCache.changed_since`): it copies those columns (vectorized, in the event loop), encodes
one `values` message per distinct tag filter (in a worker thread when it is large) and puts
the same bytes in the queue of every subscriber with that filter. Alarm and device changes and
the ping go to everyone alike. So the work per tick follows what changed, not the number of
clients, and nothing a client does (or fails to do) holds up the poller in the same loop.

A subscriber whose queue is full (a client that does not read) loses what was queued and gets
nothing more until its sender comes back for the next message; then it is sent a fresh
snapshot. Its memory stays within `QUEUE_SIZE` shared messages; one stuck for `STUCK_LIMIT` is
disconnected (its browser reconnects when it is alive).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from pstg.api.live_json import OFF_LOOP_ROWS, LiveJson
from pstg.api.stream import messages
from pstg.sinks.live import LiveRows

if TYPE_CHECKING:
    from pstg.api.context import ApiContext

log = logging.getLogger("pstg.api")

Filter = tuple[int, ...] | None
"""The tag numbers a subscriber wants, ascending; None: every tag."""


class StreamsUnavailable(Exception):
    """No stream now: `api.max_streams` are open, or the server is stopping."""


class Subscription:
    """One client's queue of messages; the hub fills it, the client's sender empties it."""

    def __init__(self, hub: StreamHub, tags: Filter) -> None:
        self.hub = hub
        self.tags = tags
        self.mask: npt.NDArray[np.bool_] | None = None
        if tags is not None:
            self.mask = np.zeros(len(hub.live.tags), dtype=np.bool_)
            self.mask[list(tags)] = True
        self._queue: deque[bytes] = deque()
        self._ready = asyncio.Event()
        self.wants_snapshot = True
        """Waiting for a snapshot: new, or caught up after its messages were dropped."""
        self.behind_since: float | None = None
        """When its queue overflowed (messages dropped, none queued since), if it did."""
        self.drops = 0
        self.ended = False
        self.sender: asyncio.Task[None] | None = None
        """The task writing to the client, cancelled if it stays stuck."""

    @property
    def takes_updates(self) -> bool:
        return not (self.wants_snapshot or self.ended or self.behind_since is not None)

    def offer(self, message: bytes, now: float) -> None:
        """Queue `message` unless the queue is full: then drop everything queued."""
        if not self.takes_updates:
            return
        if len(self._queue) >= self.hub.QUEUE_SIZE:
            self._queue.clear()
            self.behind_since = now
            self.drops += 1
            return
        self._queue.append(message)
        self._ready.set()

    def give_snapshot(self, message: bytes) -> None:
        self.wants_snapshot = False
        self._queue.append(message)
        self._ready.set()

    def end(self) -> None:
        self.ended = True
        self._ready.set()

    async def next(self) -> bytes | None:
        """The next message to send; None when the stream is over."""
        while True:
            if self._queue:
                return self._queue.popleft()
            if self.ended:
                return None
            if self.behind_since is not None:  # caught up after a drop: start afresh
                self.behind_since = None
                self.wants_snapshot = True
                self.hub.wake()
            self._ready.clear()
            await self._ready.wait()


class StreamHub:
    """See the module docstring. `close()` ends every stream (before the server stops: it
    waits for open responses)."""

    VALUES_INTERVAL = 0.25
    """Seconds between `values` messages at most (and between checks of alarms, devices)."""
    PING_INTERVAL = 15.0
    QUEUE_SIZE = 16
    """Messages a subscriber may have waiting; beyond, they are dropped (see `offer`)."""
    STUCK_LIMIT = 60.0
    """Seconds a subscriber may stay behind before its stream is ended."""
    CLOSE_GRACE = 2.0
    """Seconds `close()` lets senders finish before it cancels them."""

    def __init__(self, context: ApiContext, *, max_streams: int) -> None:
        self.context = context
        self.live = context.live
        self.max_streams = max_streams
        self.json = LiveJson(self.live.tags)
        self.subscriptions: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._closed = False
        self._seq = 0
        self._next_values = 0.0
        self._next_ping = 0.0
        self._alarm_changes: int | None = None
        self._alarms = "[]"
        self._device_key: messages.DeviceKey | None = None
        self._devices = "{}"

    # --- subscribers' side ----------------------------------------------------------------

    def subscribe(self, tags: Filter = None) -> Subscription:
        """A new subscriber (its first message is a snapshot); StreamsUnavailable when
        `max_streams` are open or the hub is closed."""
        if self._closed:
            raise StreamsUnavailable("the gateway is stopping")
        if len(self.subscriptions) >= self.max_streams:
            raise StreamsUnavailable(
                f"{self.max_streams} live streams are open, the most this gateway serves "
                "(api.max_streams): close one, or try again later"
            )
        subscription = Subscription(self, tags)
        self.subscriptions.add(subscription)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="live stream")
        self.wake()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.end()
        self.subscriptions.discard(subscription)

    def wake(self) -> None:
        """Run a tick now (a subscriber waits for a snapshot)."""
        self._wake.set()

    async def close(self) -> None:
        """End every stream; refuse new ones. Senders stuck on a client that does not read
        are cancelled after `CLOSE_GRACE` seconds."""
        self._closed = True
        for subscription in list(self.subscriptions):
            subscription.end()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        senders = {s.sender for s in self.subscriptions if s.sender is not None}
        if senders:
            await asyncio.wait(senders, timeout=self.CLOSE_GRACE)
        for subscription in list(self.subscriptions):
            self._cancel(subscription, "the gateway is stopping")

    # --- the producer -----------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        self._seq = self.live.seq
        self._next_values = loop.time() + self.VALUES_INTERVAL
        self._next_ping = loop.time() + self.PING_INTERVAL
        while self.subscriptions and not self._closed:
            await self._sleep(loop)
            self._wake.clear()
            try:
                await self._tick(loop.time())
            except Exception:  # a bug; the streams go on, the next tick tries again
                log.exception("live stream: a tick failed")

    async def _sleep(self, loop: asyncio.AbstractEventLoop) -> None:
        """Until a subscriber wants a snapshot, or values are due: a change came and
        `VALUES_INTERVAL` has passed since the last `values` (so a poll batch goes out at once,
        not at the next tick of a clock of our own), or `VALUES_INTERVAL` passed anyway
        (alarms, devices, the ping)."""
        waits: set[asyncio.Future[object]]
        if self.live.seq != self._seq:  # changed: send as soon as the interval allows
            timeout = max(0.0, self._next_values - loop.time())
            waits = {asyncio.ensure_future(self._wake.wait())}
        else:
            timeout = self.VALUES_INTERVAL
            waits = {
                asyncio.ensure_future(self._wake.wait()),
                asyncio.ensure_future(self.live.changed_after(self._seq)),
            }
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def _tick(self, now: float) -> None:
        changes = self._watch(now)
        fresh = [s for s in self.subscriptions if s.wants_snapshot and not s.ended]
        if fresh:
            await self._snapshots(fresh)
        if now >= self._next_values and await self._values(now):
            self._next_values = now + self.VALUES_INTERVAL  # counted from the last one sent
        for message in changes:
            for subscription in list(self.subscriptions):
                subscription.offer(message, now)
        if now >= self._next_ping:
            self._next_ping = now + self.PING_INTERVAL
            for subscription in list(self.subscriptions):
                subscription.offer(messages.PING, now)
        for subscription in list(self.subscriptions):
            behind = subscription.behind_since
            if behind is not None and now - behind > self.STUCK_LIMIT:
                self._cancel(subscription, f"its client read nothing for {self.STUCK_LIMIT:g} s")

    def _watch(self, now: float) -> list[bytes]:
        """The `alarms` and `devices` events due: the state changed since the last tick."""
        due: list[bytes] = []
        service = self.context.alarms
        changes = None if service is None else service.changes
        if changes != self._alarm_changes:
            first = self._alarm_changes is None and service is not None
            self._alarm_changes = changes
            alarms = messages.shown_alarms(service)
            if not first and alarms != self._alarms:
                due.append(messages.event("alarms", alarms))
            self._alarms = alarms
        key = messages.device_key(self.context.config.devices, self.context.device_stats())
        if key != self._device_key:
            first = self._device_key is None
            self._device_key = key
            self._devices = messages.devices_json(key)
            if not first:
                due.append(messages.event("devices", self._devices))
        return due

    async def _snapshots(self, fresh: list[Subscription]) -> None:
        groups: dict[Filter, list[Subscription]] = {}
        for subscription in fresh:
            groups.setdefault(subscription.tags, []).append(subscription)
        for tags, members in groups.items():
            indexes = None if tags is None else np.array(tags, dtype=np.intp)
            seq, rows = self.live.seq, self.live.rows(indexes)
            alarms, devices = self._alarms, self._devices
            tag_map = await self._encode(rows)
            message = messages.snapshot_message(seq, tag_map, alarms, devices)
            for subscription in members:
                if not subscription.ended:
                    subscription.give_snapshot(message)

    async def _values(self, now: float) -> bool:
        """Send what changed since the last time; False when nothing had."""
        seq = self.live.seq
        changed = self.live.changed_since(self._seq)
        self._seq = seq
        if not len(changed):
            return False
        groups: dict[Filter, list[Subscription]] = {}
        for subscription in self.subscriptions:
            if subscription.takes_updates:
                groups.setdefault(subscription.tags, []).append(subscription)
        for members in groups.values():
            mask = members[0].mask
            indexes = changed if mask is None else changed[mask[changed]]
            if not len(indexes):
                continue
            tag_map = await self._encode(self.live.rows(indexes))
            message = messages.tags_message("values", seq, tag_map)
            for subscription in members:
                subscription.offer(message, now)
        return True

    async def _encode(self, rows: LiveRows) -> str:
        if len(rows) > OFF_LOOP_ROWS:
            return await asyncio.to_thread(self.json.tag_map, rows)
        return self.json.tag_map(rows)

    def _cancel(self, subscription: Subscription, why: str) -> None:
        self.unsubscribe(subscription)
        sender = subscription.sender
        if sender is not None and not sender.done():
            log.warning("live stream ended: %s", why)
            sender.cancel()
