"""The collector after start-up: what start-up built (the config's models, the tag table, the
catalog, the drivers, the app) lives until the process ends, yet every full collection of
Python's cyclic garbage collector walked it again. With 20,000 tags that was about 21 ms a
collection, with 100,000 about 100 ms, on the event loop the poller shares
(`uv run python bench/gc_pause.py`). Frozen, those objects are left out of every collection;
what is made after start-up is collected as before.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger("pstg")


def freeze_start_up() -> int:
    """Collect start-up's garbage (so none of it is kept for good), then freeze everything
    left; returns how many objects were frozen. Call once, when the process has started."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug("start-up objects left out of garbage collection: %d", frozen)
    return frozen
