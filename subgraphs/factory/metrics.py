"""The factory's metrics: who runs the scheduler, how late deliveries land, and its runs by status."""

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from prometheus_client import Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import mark_process_dead
from sqlalchemy import func, select
from sqlmodel import Session

from subgraphs.factory.models import CraftRun
from subgraphs.factory.runs import FAILED, PENDING

# One series per live process (pid): which of a factory's processes holds the scheduler right now.
SCHEDULER_HELD = Gauge(
    "service_tree_scheduler_held",
    "1 while this process runs the craft scheduler, else 0",
    multiprocess_mode="liveall",
)
LATENESS = Histogram(
    "service_tree_delivery_lateness_seconds",
    "From a run's scheduled time to the shop's confirmation of its delivery",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)

_RUNS = CraftRun.__table__.c  # type: ignore[attr-defined]


def gauges(session: Session) -> Sequence[Metric]:
    """Runs waiting (PENDING) and given up on (FAILED, kept until pruned), from the database."""
    counts = dict(
        session.execute(
            select(_RUNS.status, func.count())
            .where(_RUNS.status.in_((PENDING, FAILED)))
            .group_by(_RUNS.status)
        ).all()
    )
    runs = GaugeMetricFamily(
        "service_tree_craft_runs", "Craft runs by status (PENDING, FAILED)", labels=["status"]
    )
    for status in (PENDING, FAILED):
        runs.add_metric([status], counts.get(status, 0))
    return [runs]


def forget_dead_processes() -> list[int]:
    """In multiprocess mode, drop the live gauges (`SCHEDULER_HELD`) of processes that have died; their pids.

    prometheus-client keeps a dead process's "live" gauge until someone calls `mark_process_dead` for it, and
    uvicorn's supervisor, which sees a worker die, does not: so every factory process looks at the folder
    itself (they share one machine and its pids) when it starts and at each beat of the scheduler's lead."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return []
    dead = set()
    with contextlib.suppress(OSError):  # a folder gone or unreadable: nothing to forget
        for path in Path(folder).glob("gauge_live*_*.db"):
            number = path.stem.rsplit("_", 1)[-1]
            if number.isdigit() and not _alive(int(number)):
                dead.add(int(number))
    for pid in sorted(dead):
        with contextlib.suppress(OSError):  # another process forgot it first
            mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]
    return sorted(dead)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: alive
        return True
    # A killed worker its parent has not reaped yet is a zombie: it still has a pid, but is dead.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"
