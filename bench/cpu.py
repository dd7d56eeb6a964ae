"""CPU time of the system's processes from /proc, and what one wrk run cost each of them per request."""

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.load import Load
from bench.rss import children

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
ALL = "all processes"


def _ticks(pid: int) -> int:
    """utime + stime of one process (all its threads) and cutime + cstime of the children it has reaped."""
    return sum(_times(f"/proc/{pid}/stat"))


def _times(stat_file: str) -> list[int]:
    """utime, stime, cutime, cstime of a /proc stat file (none when it is gone)."""
    try:
        stat = Path(stat_file).read_text()
    except OSError:
        return [0, 0, 0, 0]
    # The fields after the command name (which may hold spaces) start at field 3; 14..17 are the four times.
    fields = stat.rsplit(")", 1)[1].split()
    return [int(value) for value in fields[11:15]]


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and all its descendants (uvicorn's workers, PostgreSQL's backends). A child
    that ended counts in its parent's cutime/cstime once reaped: a backend closed meanwhile is not lost."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        total += _ticks(current)
        pending += children(current)
    return total / TICKS_PER_SECOND


def thread_cpu_seconds(native_id: int) -> float:
    """CPU seconds of one thread of this process (`threading.get_native_id()` in it): its utime + stime."""
    return sum(_times(f"/proc/{os.getpid()}/task/{native_id}/stat")[:2]) / TICKS_PER_SECOND


@dataclass(frozen=True)
class Cost:
    """One wrk run and the CPU milliseconds per request it cost each process (and all of them: ALL)."""

    load: Load
    ms: dict[str, float]


def measured(pids: dict[str, int], run: Callable[[], Load]) -> Cost:
    """Run `run` (one wrk run), reading each process's CPU time just before and after it."""
    before = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
    load = run()
    after = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
    requests = max(load.requests, 1)
    ms = {name: (after[name] - before[name]) * 1000 / requests for name in pids}
    ms[ALL] = sum(ms.values())
    return Cost(load, ms)
