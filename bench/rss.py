"""Peak resident memory (VmRSS) of the system's processes, sampled from /proc every half second."""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)
INTERVAL = 0.5


def _rss_kib(pid: int) -> int:
    """VmRSS of one process in KiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def children(pid: int) -> list[int]:
    """The PIDs of a process's children, of every one of its threads."""
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    except (OSError, ValueError):
        pass
    return found


def tree_rss_mib(pid: int) -> float:
    """VmRSS of a process and all its descendants, in MiB (a worker a process forks counts as its own)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        total += _rss_kib(current)
        pending += children(current)
    return total / 1024


@dataclass
class Peaks:
    """The largest VmRSS seen per process, and of all of them at one instant, in MiB."""

    per_process: dict[str, float] = field(default_factory=dict)
    together: float = 0.0
    samples: int = 0

    def add(self, sample: dict[str, float]) -> None:
        """Take one sample (process name -> MiB) into the peaks."""
        for name, mib in sample.items():
            self.per_process[name] = max(self.per_process.get(name, 0.0), mib)
        self.together = max(self.together, sum(sample.values()))
        self.samples += 1


@contextmanager
def sampled(pids: dict[str, int], peaks: Peaks) -> Iterator[Peaks]:
    """Sample the processes' VmRSS into `peaks` every INTERVAL seconds while the block runs."""
    stop = threading.Event()

    def sample() -> None:
        while True:
            peaks.add({name: tree_rss_mib(pid) for name, pid in pids.items()})
            if stop.wait(INTERVAL):
                return

    thread = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()
        peaks.add({name: tree_rss_mib(pid) for name, pid in pids.items()})
