"""SharedReads: identical reads in flight at once run once; later ones read again."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from pstg.api.shared_reads import SharedReads

WAIT = 30.0


def test_a_read_in_flight_answers_the_identical_ones_that_come_meanwhile() -> None:
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

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(reads.run, "key", slow)
        assert started.wait(WAIT)
        second = pool.submit(reads.run, "key", slow)
        different = pool.submit(reads.run, "another key", other)
        assert different.result(WAIT) == "other answer"  # another key does not wait
        for _ in range(int(WAIT * 100)):
            if reads.shared:
                break
            threading.Event().wait(0.01)
        release.set()
        assert (first.result(WAIT), second.result(WAIT)) == ("answer", "answer")
    assert calls == ["slow", "other"]
    assert reads.shared == 1
    assert reads.run("key", lambda: "fresh") == "fresh"  # nothing kept once answered


def test_the_error_of_a_shared_read_reaches_every_caller() -> None:
    reads = SharedReads()
    started, release = threading.Event(), threading.Event()

    def failing() -> str:
        started.set()
        assert release.wait(WAIT)
        raise ValueError("range too long")

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(reads.run, "key", failing)
        assert started.wait(WAIT)
        second = pool.submit(reads.run, "key", failing)
        for _ in range(int(WAIT * 100)):
            if reads.shared:
                break
            threading.Event().wait(0.01)
        release.set()
        for future in (first, second):
            with pytest.raises(ValueError, match="range too long"):
                future.result(WAIT)
