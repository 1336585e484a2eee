"""GET /tags' answer kept as bytes: each tag's metadata is encoded once, its live value again
only when the live view changed it, and the whole list once per change of the view.

Before, every request built a dict per tag, had pydantic validate and encode all of them and
read every tag's datetime out of the live view: about 4 ms for 200 tags, in the event loop the
poller shares, for every dashboard refresh. Now a request after a poll batch re-encodes that
batch's tags (vectorized, `pstg.api.live_json`; in a worker thread when there are thousands),
and the others join ready bytes. The bytes are pydantic's own for `TagOut`, so the answer is
the same, byte for byte, as before.
"""

from __future__ import annotations

import asyncio

from pydantic import TypeAdapter

from pstg.api.live_json import OFF_LOOP_ROWS, LiveJson
from pstg.api.schemas import TagOut
from pstg.config.models import StationConfig
from pstg.sinks.live import LiveCache

_TAG = TypeAdapter(TagOut)
_NO_VALUE = b"null}"


class TagList:
    """The tags of `config`, sorted by name, with their readings from `live`."""

    def __init__(self, config: StationConfig, live: LiveCache) -> None:
        self.live = live
        self.json = LiveJson(live.tags)
        count = len(live.tags)
        self._prefix: list[bytes] = [b""] * count
        """Each tag's JSON up to its `latest` value."""
        self._fragments: list[bytes] = [b""] * count
        self._device: list[str] = [""] * count
        self._words: list[tuple[str, str]] = [("", "")] * count
        """Name and description in lower case, for `q`."""
        for device in config.devices:
            for tag in device.tags:
                index = live.tags.index(tag.name)
                metadata = {
                    "name": tag.name, "device": device.id, "source": tag.source,
                    "address": tag.address, "type": tag.data_type, "unit": tag.unit,
                    "description": tag.description, "range": tag.range,
                    "writable": tag.writable, "latest": None,
                }  # fmt: skip
                encoded = _TAG.dump_json(TagOut.model_validate(metadata))
                assert encoded.endswith(_NO_VALUE)  # `latest` is TagOut's last field
                self._prefix[index] = encoded[: -len(_NO_VALUE)]
                self._fragments[index] = encoded
                self._device[index] = device.id
                self._words[index] = (tag.name.casefold(), tag.description.casefold())
        names = live.tags.names
        self._order = sorted(range(count), key=lambda index: names[index])
        self._seq = -1
        """The live view's `seq` the fragments reflect (-1: none read yet)."""
        self._all: bytes | None = None
        self._lock = asyncio.Lock()

    async def body(self, device: str | None = None, q: str | None = None) -> bytes:
        """The JSON list of the tags of `device` (all when None) whose name or description
        contains `q` (any case)."""
        await self._refresh()
        if device is None and q is None:
            if self._all is None:
                self._all = self._join(self._order)
            return self._all
        needle = None if q is None else q.casefold()
        chosen = [
            index
            for index in self._order
            if (device is None or self._device[index] == device)
            and (needle is None or any(needle in word for word in self._words[index]))
        ]
        return self._join(chosen)

    def _join(self, indexes: list[int]) -> bytes:
        fragments = self._fragments
        return b"[" + b",".join([fragments[index] for index in indexes]) + b"]"

    async def _refresh(self) -> None:
        if self._seq == self.live.seq:
            return
        async with self._lock:  # one refresh at a time; the others then find it done
            seq = self.live.seq
            if self._seq == seq:
                return
            changed = None if self._seq < 0 else self.live.changed_since(self._seq)
            rows = self.live.rows(changed)
            if len(rows) > OFF_LOOP_ROWS:
                indexes, objects = await asyncio.to_thread(self.json.objects, rows)
            else:
                indexes, objects = self.json.objects(rows)
            prefix, fragments = self._prefix, self._fragments
            for index, value in zip(indexes, objects, strict=True):
                fragments[index] = prefix[index] + value.encode() + b"}"
            self._seq = seq
            self._all = None
