"""The HTTP side of one live stream: a `text/event-stream` response that writes what its
subscription receives until the client leaves or the hub ends it.

Not Starlette's StreamingResponse (nor sse-starlette, nor FastAPI's EventSourceResponse): they
encode what a generator yields per client, and a sender blocked on a client that does not
read cannot be stopped from outside. Here the bytes are the hub's, shared by every client, and
the sender is a task the hub can cancel (`Subscription.sender`).
"""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from pstg.api.stream.hub import Subscription
from pstg.api.stream.messages import RETRY

MEDIA_TYPE = "text/event-stream"


class EventStreamResponse(Response):
    media_type = MEDIA_TYPE

    def __init__(self, subscription: Subscription) -> None:
        # nginx and the like would hold the events back in their buffers without this.
        super().__init__(headers={"X-Accel-Buffering": "no"}, media_type=MEDIA_TYPE)
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.subscription = subscription

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subscription = self.subscription
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            sender = asyncio.create_task(_send_all(subscription, send), name="stream sender")
            subscription.sender = sender
            listener = asyncio.create_task(_disconnected(receive), name="stream listener")
            try:
                await asyncio.wait({sender, listener}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sender.cancel()
                listener.cancel()
                # A client gone mid-write may leave an OSError here: nothing to report.
                await asyncio.gather(sender, listener, return_exceptions=True)
        finally:
            subscription.hub.unsubscribe(subscription)


async def _send_all(subscription: Subscription, send: Send) -> None:
    await send({"type": "http.response.body", "body": RETRY, "more_body": True})
    while (message := await subscription.next()) is not None:
        await send({"type": "http.response.body", "body": message, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
