"""Scheduler wiring and the delivery job: fire -> PENDING run -> deliver through the router, retried.

Fires are cheap (they only note the craft and the time); one worker writes the noted fires as PENDING runs
in one transaction, then delivers every due run, many per request. A hundred crafts firing in the same
second cost a few transactions and requests, not hundreds.
"""

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session

from subgraphs._common.db import Database, as_utc, utcnow
from subgraphs._common.poller import Poller
from subgraphs.factory import services
from subgraphs.factory.clients import DeliveryOrder, Refusal, RouterClient
from subgraphs.factory.models import Craft, CraftRun
from subgraphs.factory.settings import Settings

logger = logging.getLogger(__name__)
_DUE_PER_ROUND = 1000
_PER_REQUEST = 50  # deliveries per request: well under the 100-alias limit
_REQUESTS_AT_ONCE = 4


class Deliveries:
    """Turns fires into PENDING runs and delivers due runs until each is DELIVERED or FAILED."""

    def __init__(self, *, db: Database, client: RouterClient, settings: Settings) -> None:
        self._db = db
        self._client = client
        self._settings = settings
        self._fires: list[tuple[int, datetime]] = []
        self._requests = asyncio.Semaphore(_REQUESTS_AT_ONCE)
        self.poller = Poller("craft-deliveries", self.drain, interval=settings.delivery_retry_seconds)

    def fired(self, craft_id: int, fired_at: datetime) -> None:
        """Note a fire; the worker writes its run and delivers it at once."""
        self._fires.append((craft_id, fired_at))
        self.poller.wake()

    async def drain(self, *, due_by: datetime | None = None) -> None:
        """One round: write noted fires as PENDING runs, then attempt once every run due by `due_by` (now,
        unless given)."""
        fires, self._fires = self._fires, []
        if fires:
            await self._db.write(services.record_fires, fires)
        runs = await self._db.read(services.due_runs, due_by=due_by or utcnow(), limit=_DUE_PER_ROUND)
        batches = [runs[start : start + _PER_REQUEST] for start in range(0, len(runs), _PER_REQUEST)]
        # Batches go out together: the router plans one while the shop applies another.
        await asyncio.gather(*(self._deliver(batch) for batch in batches))

    async def _deliver(self, runs: list[CraftRun]) -> None:
        async with self._requests:
            outcome = await self._client.deliver(
                [DeliveryOrder(key=run.key, product_id=run.product_id, count=run.count) for run in runs]
            )
        await self._record(runs, outcome)

    async def _record(self, runs: list[CraftRun], outcome: dict[str, Refusal | None]) -> None:
        for run in runs:
            refusal = outcome[run.key]
            if refusal is not None:
                logger.warning("run %s not delivered: %s", run.key, refusal.error)
        await self._db.write(self._mark, runs, outcome)

    def _mark(self, session: Session, runs: list[CraftRun], outcome: dict[str, Refusal | None]) -> None:
        delivered = [run.id for run in runs if outcome[run.key] is None and run.id is not None]
        if delivered:
            services.mark_delivered(session, run_ids=delivered)
        for run in runs:
            refusal = outcome[run.key]
            if refusal is None or run.id is None:
                continue
            services.mark_attempt_failed(
                session,
                run_id=run.id,
                error=refusal.error,
                permanent=refusal.permanent,
                max_attempts=self._settings.delivery_max_attempts,
                retry=self._settings.delivery_retry_seconds,
                max_backoff=self._settings.delivery_max_backoff_seconds,
            )


class CraftScheduler:
    """One APScheduler job per active craft, firing on the craft's grid. The craft table is the truth:
    jobs live in memory and are rebuilt from it at start, so a restart resumes every schedule."""

    def __init__(self, *, deliveries: Deliveries, enabled: bool) -> None:
        self._deliveries = deliveries
        self.enabled = enabled
        self._scheduler = AsyncIOScheduler(timezone="UTC")

    def start(self, crafts: list[Craft]) -> None:
        """Schedule `crafts` (the active ones) and start firing (no-op when disabled)."""
        if not self.enabled:
            return
        self._scheduler.start()
        for craft in crafts:
            self.schedule(craft)
        logger.info("scheduler started with %d active crafts", len(crafts))

    def shutdown(self) -> None:
        """Stop firing."""
        if self.enabled and self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def schedule(self, craft: Craft) -> None:
        """Fire `craft` on its grid from now on (or stop firing it, when paused)."""
        if not self.enabled:
            return
        assert craft.id is not None
        if not craft.active:
            self.unschedule(craft.id)
            return
        interval = timedelta(seconds=craft.interval_seconds)
        self._scheduler.add_job(
            self.fire,
            trigger=IntervalTrigger(
                seconds=craft.interval_seconds, start_date=as_utc(craft.anchor_at) + interval
            ),
            args=[craft.id],
            id=_job_id(craft.id),
            replace_existing=True,
            # A late fire still belongs to its slot; one missed while the process was down is skipped.
            misfire_grace_time=max(1, craft.interval_seconds // 2),
            coalesce=True,
        )

    def unschedule(self, craft_id: int) -> None:
        """Stop firing a craft at once."""
        if not self.enabled:
            return
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(_job_id(craft_id))

    def is_scheduled(self, craft_id: int) -> bool:
        """Whether this process fires the craft (holds a job for it)."""
        return self.enabled and self._scheduler.get_job(_job_id(craft_id)) is not None

    async def fire(self, craft_id: int) -> None:
        """One fire: noted now, written as a PENDING run before any delivery is attempted."""
        self._deliveries.fired(craft_id, utcnow())


def _job_id(craft_id: int) -> str:
    return f"craft-{craft_id}"
