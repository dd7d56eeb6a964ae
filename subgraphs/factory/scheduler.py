"""Scheduler wiring: one APScheduler job per active craft, firing on the craft's grid.

The craft table is the truth. Jobs live in memory: built from the table when this process starts to lead,
changed at once when this process commits a craft change, and reconciled with the table every second for
changes other processes (replicas serving the API) commit.

What a fire does is computed, not taken from the clock: the scheduler keeps, for each craft, the last slot
it fired, and a fire at time t fires every grid slot after that one up to t. So a fire that comes late (a
busy event loop) makes up its slots instead of losing them, and `advance(until)` drives the schedule to any
time at once, round by round, as `drain(due_by=...)` drives deliveries: the tests assert exact runs with it.
"""

import contextlib
import logging
from datetime import datetime, timedelta

from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from subgraphs._common.db import Database, utcnow
from subgraphs._common.poller import Poller
from subgraphs.factory import grid
from subgraphs.factory.jobs import Deliveries
from subgraphs.factory.metrics import SCHEDULER_HELD

logger = logging.getLogger(__name__)
# APScheduler computes fire times from float timestamps: a fire may come a microsecond before its slot.
_EARLY = timedelta(milliseconds=10)


class CraftScheduler:
    """Fires active crafts while this process runs the scheduler; otherwise every call is a no-op."""

    def __init__(self, *, db: Database, deliveries: Deliveries, reconcile_seconds: float = 1.0) -> None:
        self._db = db
        self._deliveries = deliveries
        self._scheduler: AsyncIOScheduler | None = None
        self._grids: dict[int, grid.CraftGrid] = {}  # craft id -> the grid it fires on
        self._fired: dict[int, datetime] = {}  # craft id -> the last slot fired (or when its grid began)
        self._reconciler = Poller("craft-reconciler", self.reconcile, interval=reconcile_seconds)

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    async def start(self, since: datetime | None = None) -> None:
        """Start firing every active craft (this process now runs the scheduler). With `since` (when this
        process took the lead and made up the slots before then), every craft's slots after `since` are fired:
        none falls between the catch-up and this start."""
        if self._scheduler is not None:
            return
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.start()
        crafts = await self._db.read(grid.active_crafts)
        for craft in crafts:
            self.schedule(craft, since=since)
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
        self._fired.clear()
        SCHEDULER_HELD.set(0)
        logger.info("scheduler stopped")

    def schedule(self, craft: grid.Grid, *, since: datetime | None = None) -> None:
        """Fire `craft` on its grid from now on, or from `since` (or stop firing it, when paused). Slots of a
        new grid that fell before then are not fired: no process fired them, and the schedule goes on from
        here."""
        if self._scheduler is None or craft.id is None:
            return
        if not craft.active:
            self.unschedule(craft.id)
            return
        craft_grid = grid.CraftGrid.of(craft)
        if self._grids.get(craft.id) == craft_grid:
            return
        self._scheduler.add_job(
            self.fire,
            trigger=IntervalTrigger(
                seconds=craft_grid.interval_seconds,
                start_date=craft_grid.anchor_at + timedelta(seconds=craft_grid.interval_seconds),
            ),
            args=[craft.id],
            id=_job_id(craft.id),
            replace_existing=True,
            # However late a fire comes, it fires the slots since the last one (once, however many it missed).
            misfire_grace_time=None,
            coalesce=True,
        )
        self._grids[craft.id] = craft_grid
        self._fired[craft.id] = max(craft_grid.anchor_at, since or utcnow())

    def unschedule(self, craft_id: int) -> None:
        """Stop firing a craft at once."""
        self._grids.pop(craft_id, None)
        self._fired.pop(craft_id, None)
        if self._scheduler is not None:
            with contextlib.suppress(JobLookupError):
                self._scheduler.remove_job(_job_id(craft_id))

    def job(self, craft_id: int) -> Job | None:
        """The APScheduler job that fires the craft in this process, if any (its trigger, next fire time)."""
        return self._scheduler.get_job(_job_id(craft_id)) if self._scheduler is not None else None

    async def reconcile(self) -> None:
        """Bring the jobs in line with the craft table (changes committed by other processes)."""
        active = {craft.id: craft for craft in await self._db.read(grid.active_crafts) if craft.id}
        for craft_id in set(self._grids) - set(active):
            self.unschedule(craft_id)
        for craft in active.values():
            self.schedule(craft)

    async def fire(self, craft_id: int) -> None:
        """The job of a craft: fire its slots due by now."""
        self._fire_due(craft_id, utcnow() + _EARLY)

    def advance(self, until: datetime) -> int:
        """Fire, at once, every slot of every scheduled craft due by `until` and not fired yet: what the jobs
        would fire by then. How many slots were fired."""
        return sum(self._fire_due(craft_id, until) for craft_id in list(self._grids))

    def _fire_due(self, craft_id: int, until: datetime) -> int:
        # A fire is noted now and written as a PENDING run before any delivery is attempted.
        if craft_id not in self._grids:
            return 0
        slots = grid.slots_between(self._grids[craft_id], self._fired[craft_id], until)
        for slot in slots:
            self._deliveries.fired(craft_id, slot)
        if slots:
            self._fired[craft_id] = slots[-1]
        return len(slots)


def _job_id(craft_id: int) -> str:
    return f"craft-{craft_id}"
