"""Link faults: what a bad radio link or an overloaded serial gateway does to Modbus traffic.

`LinkFaults` decides, per request, whether the simulated PLC answers normally or misbehaves.
The decisions come from one `random.Random(seed)`, drawn once per request in arrival order,
so a single client sees the same fault sequence on every run with the same seed.

In the `flaky` mode each request, independently, may

- drop the link (every open TCP connection is closed, as when a radio link fades),
- answer only after a delay longer than any sensible timeout,
- answer with exception 6 "server device busy" or 11 "gateway target device failed to respond",
- answer with a malformed frame (truncated, a lying byte count, an unknown function).

`offline` is handled by the server (it stops listening for a while); this module only says
how long.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass
from enum import Enum


class FaultKind(Enum):
    NONE = "none"
    DROP = "drop"
    DELAY = "delay"
    BUSY = "busy"
    GATEWAY_NO_RESPONSE = "gateway_no_response"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class FlakyProfile:
    """Probability of each fault per request, and the delay range of a late answer."""

    drop: float = 0.02
    delay: float = 0.03
    busy: float = 0.03
    gateway_no_response: float = 0.02
    malformed: float = 0.03
    delay_seconds: tuple[float, float] = (2.5, 5.0)

    def __post_init__(self) -> None:
        total = self.drop + self.delay + self.busy + self.gateway_no_response + self.malformed
        if not 0 <= total <= 1:
            raise ValueError(f"fault probabilities add up to {total:g}; they must be in 0..1")


DEFAULT_OFFLINE_SECONDS = 30.0

MALFORMED_KINDS = ("truncated", "bad_byte_count", "unknown_function")


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    delay: float = 0.0
    malformed: str = ""


NO_FAULT = Fault(FaultKind.NONE)


class LinkFaults:
    """Per-request fault decisions for one simulated link; see the module docstring."""

    def __init__(self, seed: int, profile: FlakyProfile | None = None) -> None:
        self.profile = profile or FlakyProfile()
        self.flaky = False
        self._rng = random.Random(f"link-faults-{seed}")
        self.injected: dict[FaultKind, int] = dict.fromkeys(FaultKind, 0)
        """Faults injected so far, per kind (NONE counts the normal answers)."""

    def next_request(self) -> Fault:
        """The fault, if any, to inflict on the request that just arrived."""
        fault = self._draw() if self.flaky else NO_FAULT
        self.injected[fault.kind] += 1
        return fault

    def _draw(self) -> Fault:
        p = self.profile
        roll = self._rng.random()
        for kind, probability in (
            (FaultKind.DROP, p.drop),
            (FaultKind.DELAY, p.delay),
            (FaultKind.BUSY, p.busy),
            (FaultKind.GATEWAY_NO_RESPONSE, p.gateway_no_response),
            (FaultKind.MALFORMED, p.malformed),
        ):
            if roll < probability:
                return self._detail(kind)
            roll -= probability
        return NO_FAULT

    def _detail(self, kind: FaultKind) -> Fault:
        if kind is FaultKind.DELAY:
            return Fault(kind, delay=self._rng.uniform(*self.profile.delay_seconds))
        if kind is FaultKind.MALFORMED:
            return Fault(kind, malformed=self._rng.choice(MALFORMED_KINDS))
        return Fault(kind)


def corrupt_frame(frame: bytes, how: str) -> bytes:
    """A broken version of the Modbus TCP answer `frame` (MBAP header + PDU).

    - truncated: the last byte is missing, so the client waits for a frame that never ends;
    - bad_byte_count: the PDU's byte count claims more data than the frame holds;
    - unknown_function: the PDU replaced by one with a function code no device uses.
    """
    if how == "truncated":
        return frame[:-1]
    header, pdu = frame[:7], frame[7:]
    if how == "bad_byte_count" and len(pdu) >= 2 and pdu[0] < 0x80:
        return header + bytes([pdu[0], (pdu[1] + 4) & 0xFF]) + pdu[2:]
    transaction, protocol = struct.unpack(">HH", frame[:4])
    garbage = b"\x55\x01\x02"
    return struct.pack(">HHHB", transaction, protocol, len(garbage) + 1, frame[6]) + garbage
