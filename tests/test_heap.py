"""pstg.heap: start-up's garbage is collected, what survives is frozen. In a process of its own:
freezing the test runner's objects would keep them for the rest of the suite."""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import gc, weakref
from pstg.heap import freeze_start_up

class Node:
    pass

kept = [Node() for _ in range(1000)]
cycle = Node()
cycle.self = cycle  # garbage only the cyclic collector can free
gone = weakref.ref(cycle)
del cycle
gc.disable()  # no collection by chance before the call
frozen = freeze_start_up()
assert gone() is None, "start-up garbage was frozen instead of collected"
assert frozen >= 1000 and gc.get_freeze_count() == frozen, frozen
print("ok", frozen)
"""


def test_start_up_garbage_is_collected_and_the_rest_frozen() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
