"""Poller test helpers: build station configs and run a Poller for a while, collecting output."""

import asyncio
import socket
from dataclasses import dataclass, field
from typing import Any

from pstg.config.models import StationConfig
from pstg.config.tag_table import TagTable
from pstg.model import Event, Sample
from pstg.poller.output import CollectingOutput, PollOutput
from pstg.poller.service import Poller


def station(*devices: dict[str, Any]) -> StationConfig:
    return StationConfig.model_validate({"station": {"id": "test"}, "devices": list(devices)})


def free_port() -> int:
    """A port nothing listens on (bound and released), for 'connection refused'."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Collected:
    samples: list[Sample] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def of(self, tag: str) -> list[Sample]:
        return [sample for sample in self.samples if sample.tag == tag]


class NamedOutput(CollectingOutput):
    """Collects batches and knows the tag names, so tests can read them as Samples."""

    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__()
        self.names = names


def drain(output: PollOutput, into: Collected) -> None:
    """Move what a NamedOutput holds into `into`, as Samples."""
    assert isinstance(output, NamedOutput)
    batches, events = output.take()
    for batch in batches:
        into.samples.extend(batch.samples(output.names))
    into.events.extend(events)


def for_station(config: StationConfig) -> Poller:
    """A Poller of `config` whose output can be drained as Samples."""
    return Poller.for_station(config, NamedOutput(TagTable.from_config(config).names))


async def run_for(poller: Poller, seconds: float, into: Collected) -> None:
    """Let the poller run `seconds`, moving its output into `into` as it comes."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while (left := end - loop.time()) > 0:
        await asyncio.sleep(min(0.05, left))
        drain(poller.output, into)


async def poll_once(config: StationConfig, seconds: float = 0.3) -> Collected:
    """Start a poller, let it do its first cycle(s), stop it, return what it produced."""
    collected = Collected()
    async with for_station(config) as poller:
        await run_for(poller, seconds, collected)
    drain(poller.output, collected)
    return collected
