"""Garbage-collection pauses: how long a full collection takes with a big station loaded, before
and after `pstg.heap.freeze_start_up` (what `pstg run` and each poller worker call once started).

    uv run python bench/gc_pause.py [--sizes 20000,100000]

Per size, in a fresh process: the station file of bench/config.py loaded and validated, the
tag table and the live view built (the bulk of what a gateway holds for good); then the median
of 5 full collections (`gc.collect()`), the freeze, and 5 more. A full collection runs on the
event loop the poller shares whenever enough objects have survived the younger generations.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def full_collection_ms(repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        gc.collect()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def child(tags: int) -> None:
    from config import station_text
    from pstg.config.loader import load_config
    from pstg.config.tag_table import TagTable
    from pstg.heap import freeze_start_up
    from pstg.sinks.live import LiveCache

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "station.yaml"
        path.write_text(station_text(tags))
        config = load_config(path)
    table = TagTable.from_config(config)
    live = LiveCache(table)
    tracked = len(gc.get_objects())
    before = full_collection_ms()
    frozen = freeze_start_up()
    after = full_collection_ms()
    print(
        f"{tags:>7,} tags: {tracked:>9,} objects tracked, full collection {before:6.1f} ms; "
        f"after freezing {frozen:,}: {after:5.2f} ms"
    )
    del live


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    for size in (int(part) for part in args.sizes.split(",")):
        subprocess.run([sys.executable, __file__, "--child", str(size)], check=True)


if __name__ == "__main__":
    main()
