"""CPU time and memory of a process and all its descendants (worker processes included).

CPU: user + system time of every live process of the tree, each plus the time of the children
it has reaped (psutil's children_user/children_system), so a worker that ends mid-run still
counts, once, in its parent's figure. RSS: the sum over the live tree; pages shared between
forked processes are counted in each, so the sum is an upper bound on what the tree uses.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import psutil


class ProcessTreeMeter:
    """Reads the CPU seconds and RSS of the trees rooted at `roots`; tracks the peak RSS."""

    def __init__(self, roots: Iterable[int]) -> None:
        self._roots: list[psutil.Process] = []
        for pid in roots:
            with contextlib.suppress(psutil.NoSuchProcess):  # gone already: nothing to measure
                self._roots.append(psutil.Process(pid))
        self.peak_rss = 0
        self.rss = 0

    def _tree(self) -> list[psutil.Process]:
        processes: list[psutil.Process] = []
        for root in self._roots:
            try:
                processes.append(root)
                processes.extend(root.children(recursive=True))
            except psutil.NoSuchProcess:
                continue
        return processes

    def sample(self) -> float:
        """CPU seconds used so far by the trees (updates rss and peak_rss)."""
        cpu, rss = 0.0, 0
        for process in self._tree():
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    rss += process.memory_info().rss
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue  # ended between the listing and the reading: its parent reaps it
            cpu += times.user + times.system + times.children_user + times.children_system
        self.rss = rss
        self.peak_rss = max(self.peak_rss, rss)
        return cpu

    def descendants(self) -> int:
        """Live processes of the trees other than the roots (workers left behind)."""
        return sum(1 for process in self._tree() if process not in self._roots)
