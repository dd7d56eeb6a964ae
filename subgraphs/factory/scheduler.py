"""Scheduler wiring: one APScheduler job per active craft, firing on the craft's grid.

The craft table is the truth. Jobs live in memory: built from the table when this process starts to lead,
changed at once when this process commits a craft change, and reconciled with the table every second for
changes other processes (replicas serving the API) commit.
"""

import contextlib
import logging
from datetime import datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from subgraphs._common.db import Database, as_utc, utcnow
from subgraphs._common.poller import Poller
from subgraphs.factory import grid
from subgraphs.factory.jobs import Deliveries
from subgraphs.factory.metrics import SCHEDULER_HELD

logger = logging.getLogger(__name__)


class CraftScheduler:
    """Fires active crafts while this process runs the scheduler; otherwise every call is a no-op."""

    def __init__(self, *, db: Database, deliveries: Deliveries, reconcile_seconds: float = 1.0) -> None:
        self._db = db
        self._deliveries = deliveries
        self._scheduler: AsyncIOScheduler | None = None
        self._grids: dict[int, tuple[datetime, int]] = {}  # craft id -> (anchor, interval) it fires on
        self._reconciler = Poller("craft-reconciler", self.reconcile, interval=reconcile_seconds)

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    async def start(self) -> None:
        """Start firing every active craft (this process now runs the scheduler)."""
        if self._scheduler is not None:
            return
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.start()
        crafts = await self._db.read(grid.active_crafts)
        for craft in crafts:
            self.schedule(craft)
        self._reconciler.start()
        SCHEDULER_HELD.set(1)
        logger.info("scheduler started with %d active crafts", len(crafts))

    async def stop(self) -> None:
        """Stop firing (this process no longer runs the scheduler)."""
        if self._scheduler is None:
            return
        await self._reconciler.stop(grace=5)
        self._scheduler.shutdown(wait=False)
        self._scheduler = None
        self._grids.clear()
        SCHEDULER_HELD.set(0)
        logger.info("scheduler stopped")

    def schedule(self, craft: grid.Grid) -> None:
        """Fire `craft` on its grid from now on (or stop firing it, when paused)."""
        if self._scheduler is None or craft.id is None:
            return
        if not craft.active:
            self.unschedule(craft.id)
            return
        anchor = as_utc(craft.anchor_at)
        self._scheduler.add_job(
            self.fire,
            trigger=IntervalTrigger(
                seconds=craft.interval_seconds, start_date=anchor + timedelta(seconds=craft.interval_seconds)
            ),
            args=[craft.id],
            id=_job_id(craft.id),
            replace_existing=True,
            # A late fire still belongs to its slot; one missed while no process fired is skipped.
            misfire_grace_time=max(1, craft.interval_seconds // 2),
            coalesce=True,
        )
        self._grids[craft.id] = (anchor, craft.interval_seconds)

    def unschedule(self, craft_id: int) -> None:
        """Stop firing a craft at once."""
        self._grids.pop(craft_id, None)
        if self._scheduler is not None:
            with contextlib.suppress(JobLookupError):
                self._scheduler.remove_job(_job_id(craft_id))

    def is_scheduled(self, craft_id: int) -> bool:
        """Whether this process fires the craft (holds a job for it)."""
        return self._scheduler is not None and self._scheduler.get_job(_job_id(craft_id)) is not None

    async def reconcile(self) -> None:
        """Bring the jobs in line with the craft table (changes committed by other processes)."""
        active = {craft.id: craft for craft in await self._db.read(grid.active_crafts) if craft.id}
        for craft_id in set(self._grids) - set(active):
            self.unschedule(craft_id)
        for craft_id, craft in active.items():
            if self._grids.get(craft_id) != (as_utc(craft.anchor_at), craft.interval_seconds):
                self.schedule(craft)

    async def fire(self, craft_id: int) -> None:
        """One fire: noted now, written as a PENDING run before any delivery is attempted."""
        self._deliveries.fired(craft_id, utcnow())


def _job_id(craft_id: int) -> str:
    return f"craft-{craft_id}"
