"""The factory's metrics: who runs the scheduler, how late deliveries land, and its runs by status."""

from collections.abc import Sequence

from prometheus_client import Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlmodel import Session

from subgraphs.factory.models import CraftRun
from subgraphs.factory.runs import FAILED, PENDING

# One series per process (pid): which of a factory's processes holds the scheduler right now.
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
