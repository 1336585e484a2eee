"""SharedReads: identical reads in flight at once run once; later ones read again; those who
join wait on the loop, not in a query thread; the first requester going away does not take
the answer from the others."""

from __future__ import annotations

import asyncio
import threading

import pytest

from pstg.api.query_threads import QUERY_THREADS
from pstg.api.shared_reads import SharedReads

WAIT = 30.0


async def test_a_read_in_flight_answers_the_identical_ones_that_come_meanwhile() -> None:
    reads = SharedReads()
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow() -> str:
        calls.append("slow")
        started.set()
        assert release.wait(WAIT)
        return "answer"

    def other() -> str:
        calls.append("other")
        return "other answer"

    first = asyncio.create_task(reads.run("key", slow))
    assert await asyncio.to_thread(started.wait, WAIT)
    # More joiners than there are query threads: none of them needs one.
    joined = [asyncio.create_task(reads.run("key", slow)) for _ in range(4 * QUERY_THREADS)]
    assert await asyncio.wait_for(reads.run("another key", other), WAIT) == "other answer"
    await asyncio.sleep(0)
    assert reads.shared == len(joined)
    release.set()
    answers = await asyncio.wait_for(asyncio.gather(first, *joined), WAIT)
    assert answers == ["answer"] * (1 + len(joined))
    assert calls == ["slow", "other"]
    assert await reads.run("key", lambda: "fresh") == "fresh"  # nothing kept once answered


async def test_the_error_of_a_shared_read_reaches_every_caller() -> None:
    reads = SharedReads()
    started, release = threading.Event(), threading.Event()

    def failing() -> str:
        started.set()
        assert release.wait(WAIT)
        raise ValueError("range too long")

    first = asyncio.create_task(reads.run("key", failing))
    assert await asyncio.to_thread(started.wait, WAIT)
    second = asyncio.create_task(reads.run("key", failing))
    await asyncio.sleep(0)
    release.set()
    for task in (first, second):
        with pytest.raises(ValueError, match="range too long"):
            await asyncio.wait_for(task, WAIT)


async def test_the_first_requester_going_away_leaves_the_answer_to_the_others() -> None:
    reads = SharedReads()
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        assert release.wait(WAIT)
        return "answer"

    first = asyncio.create_task(reads.run("key", slow))
    assert await asyncio.to_thread(started.wait, WAIT)
    second = asyncio.create_task(reads.run("key", slow))
    await asyncio.sleep(0)
    first.cancel()  # a closed browser tab
    release.set()
    assert await asyncio.wait_for(second, WAIT) == "answer"
    with pytest.raises(asyncio.CancelledError):
        await first
