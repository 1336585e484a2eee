"""What the delivery needs of a channel: send one notification, or say why not."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pstg.notify.message import Content, Recipient


class DeliveryError(Exception):
    """A notification not delivered. `permanent`: trying again cannot help (a recipient the
    server refuses, a webhook answering 404); the delivery gives up at once."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class Channel(Protocol):
    """One way of reaching people. `send` raises DeliveryError (nothing else) when the
    notification did not get through, and returns a few words of what the far end said."""

    @property
    def name(self) -> str: ...

    async def send(
        self, content: Content, recipient: Recipient, *, notification_id: str, now: datetime
    ) -> str: ...

    async def close(self) -> None: ...
