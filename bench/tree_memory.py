"""Peak memory of a whole process tree (this process and every descendant, e.g. generator workers),
sampled from /proc, so benchmarks report what the machine had to hold, not one process's share."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _tree_rss_bytes(root: int) -> int:
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            statm = (entry / "statm").read_text().split()
        except OSError:
            continue  # the process ended while we looked
        # The command name may hold spaces: fields after the closing parenthesis are fixed.
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        parent[pid] = int(fields[1])
        rss[pid] = int(statm[1]) * PAGE_BYTES
    total = 0
    for pid, size in rss.items():
        p = pid
        while p > 1:
            if p == root:
                total += size
                break
            p = parent.get(p, 0)
    return total


class PeakTreeMemory:
    """`with PeakTreeMemory() as peak: ...` then `peak.gb`: the largest sampled RSS sum of the tree."""

    def __init__(self, interval_seconds: float = 0.25) -> None:
        self.interval = interval_seconds
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        root = os.getpid()
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, _tree_rss_bytes(root))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakTreeMemory:
        if Path("/proc/self/statm").exists():
            self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def gb(self) -> float:
        return round(self.peak_bytes / 1024**3, 2)
