"""Link faults, each observed by the collector's real Modbus driver, and a collector that keeps
polling through a flaky link and reports the right failure kinds."""

import asyncio
import struct
from collections import Counter

import pytest

from pstg.config.loader import load_config_text
from pstg.drivers.errors import (
    ConnectionLost,
    DeviceException,
    DriverError,
    FailureKind,
    MalformedResponse,
    RequestTimeout,
)
from pstg.model import Quality, RegisterTable
from pstg.simulator.faults import FaultKind, FlakyProfile, LinkFaults, corrupt_frame
from pstg.simulator.runner import Simulator
from pstg.simulator.scenarios import parse_scenario
from pstg.simulator.seed import SeedOptions, seed_config_text
from tests.poller.conftest import Collected, for_station, run_for
from tests.simulator.conftest import client, options, read

IR = RegisterTable.INPUT_REGISTER


async def failures_seen(
    profile: FlakyProfile, requests: int = 6, response_timeout: float = 0.4
) -> list[object]:
    """Read `requests` times through a flaky link with `profile`: for each, None when it
    worked, the exception code of a Modbus exception, or the type of any other failure."""
    async with Simulator(options(flaky=profile)) as simulator:
        simulator.set_scenario(parse_scenario("flaky"))
        driver, context = await client(simulator.ports[0], response_timeout=response_timeout)
        seen: list[object] = []
        try:
            for _ in range(requests):
                try:
                    await read(driver, IR, 0, 2)
                    seen.append(None)
                except DeviceException as exc:
                    seen.append(exc.code)
                except DriverError as exc:
                    seen.append(type(exc))
        finally:
            await context.aclose()
        return seen


async def test_busy_answers_exception_6() -> None:
    assert set(
        await failures_seen(
            FlakyProfile(busy=1.0, delay=0, drop=0, gateway_no_response=0, malformed=0)
        )
    ) == {6}


async def test_gateway_answers_exception_11() -> None:
    seen = await failures_seen(
        FlakyProfile(gateway_no_response=1.0, busy=0, delay=0, drop=0, malformed=0)
    )
    assert set(seen) == {11}


async def test_late_answers_time_out_and_the_next_request_still_works() -> None:
    profile = FlakyProfile(delay=1.0, busy=0, drop=0, gateway_no_response=0, malformed=0,
                           delay_seconds=(0.6, 0.6))  # fmt: skip
    assert set(await failures_seen(profile, requests=2, response_timeout=0.3)) == {RequestTimeout}


async def test_drops_lose_the_connection() -> None:
    profile = FlakyProfile(drop=1.0, busy=0, delay=0, gateway_no_response=0, malformed=0)
    seen = await failures_seen(profile, requests=3)
    assert set(seen) <= {ConnectionLost, None}
    assert ConnectionLost in seen


async def test_malformed_frames_are_reported_as_malformed_or_cut_short() -> None:
    profile = FlakyProfile(malformed=1.0, busy=0, delay=0, drop=0, gateway_no_response=0)
    seen = await failures_seen(profile, requests=12, response_timeout=0.3)
    # A truncated frame never completes, so the client times out waiting for its end.
    assert set(seen) <= {MalformedResponse, RequestTimeout, ConnectionLost}
    assert MalformedResponse in seen


def test_fault_sequence_is_reproducible_by_seed() -> None:
    def sequence(seed: int) -> list[FaultKind]:
        faults = LinkFaults(seed, FlakyProfile(drop=0.2, delay=0.2, busy=0.2, malformed=0.2))
        faults.flaky = True
        return [faults.next_request().kind for _ in range(200)]

    assert sequence(5) == sequence(5)
    assert sequence(5) != sequence(6)
    assert len(set(sequence(5))) == len(FaultKind)


def test_no_faults_unless_flaky() -> None:
    faults = LinkFaults(
        1, FlakyProfile(busy=1.0, delay=0, drop=0, gateway_no_response=0, malformed=0)
    )
    assert {faults.next_request().kind for _ in range(20)} == {FaultKind.NONE}


def test_profile_probabilities_must_add_up_to_at_most_one() -> None:
    with pytest.raises(ValueError, match="add up"):
        FlakyProfile(drop=0.6, delay=0.6)


def frame(pdu: bytes) -> bytes:
    return struct.pack(">HHHB", 7, 0, len(pdu) + 1, 1) + pdu


def test_corrupt_frames() -> None:
    answer = frame(bytes([3, 4, 0, 1, 0, 2]))
    assert corrupt_frame(answer, "truncated") == answer[:-1]
    lying = corrupt_frame(answer, "bad_byte_count")
    assert lying[8] == 8
    assert len(lying) == len(answer)
    unknown = corrupt_frame(answer, "unknown_function")
    assert unknown[:2] == answer[:2]
    assert unknown[7] == 0x55
    assert struct.unpack(">H", unknown[4:6])[0] == len(unknown) - 6


async def test_the_collector_keeps_polling_through_a_flaky_link() -> None:
    profile = FlakyProfile(drop=0.04, delay=0.06, busy=0.08, gateway_no_response=0.06,
                           malformed=0.08, delay_seconds=(0.5, 0.8))  # fmt: skip
    async with Simulator(options(flaky=profile, speed=10, tick=0.05)) as simulator:
        simulator.set_scenario(parse_scenario("flaky"))
        text = seed_config_text(SeedOptions(port=simulator.ports[0]))
        text = text.replace("poll_interval: 1s", "poll_interval: 0.1s").replace(
            "timeout: 1s", "timeout: 0.3s\n    backoff_initial: 0.1s\n    backoff_max: 0.2s"
        )
        config = load_config_text(text, "station.yaml")
        collected = Collected()
        async with for_station(config) as poller:
            await run_for(poller, 8.0, collected)
            stats = poller.stats["plc1"]
        injected = simulator.servers[0].faults.injected
    errors: Counter[FailureKind] = stats.errors
    assert errors[FailureKind.DEVICE_EXCEPTION] > 0
    assert errors[FailureKind.TIMEOUT] > 0
    assert errors[FailureKind.MALFORMED_RESPONSE] > 0
    assert errors[FailureKind.CONNECTION_LOST] + errors[FailureKind.CONNECT_FAILED] > 0
    assert injected[FaultKind.NONE] > 20
    level = collected.of("wet_well.level")
    good = [s for s in level if s.quality is Quality.GOOD]
    bad = [s for s in level if s.quality is Quality.BAD]
    assert good
    assert bad
    # It kept polling: good readings came after the first failure too.
    assert good[-1].ts > bad[0].ts
    assert stats.cycles > 20
    await asyncio.sleep(0)
