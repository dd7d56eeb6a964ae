"""Scheduler wiring and the delivery job: fire -> PENDING run -> deliver through the router, retried."""

import asyncio
import contextlib
import logging
from datetime import timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from subgraphs._common.db import Database, as_utc, utcnow
from subgraphs._common.poller import Poller
from subgraphs.factory import services
from subgraphs.factory.clients import DeliveryFailed, ShopClient
from subgraphs.factory.models import Craft, CraftRun
from subgraphs.factory.settings import Settings

logger = logging.getLogger(__name__)
_BATCH = 200
_PARALLEL = 32


class Deliveries:
    """Delivers PENDING runs: at once after a fire, then on a timer with backoff until DELIVERED or FAILED."""

    def __init__(self, *, db: Database, client: ShopClient, settings: Settings) -> None:
        self._db = db
        self._client = client
        self._settings = settings
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(_PARALLEL)
        self.poller = Poller("craft-deliveries", self.drain, interval=settings.delivery_retry_seconds)

    def deliver_soon(self, run: CraftRun) -> None:
        """Start delivering a fresh run in the background."""
        task = asyncio.create_task(self._attempt(run))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Attempt every due run once (runs left PENDING by a restart included)."""
        async with self._db.read() as session:
            runs = await services.due_runs(session, limit=_BATCH)
        await asyncio.gather(*(self._attempt(run) for run in runs))

    async def wait_idle(self) -> None:
        """Let attempts under way finish (on shutdown; unfinished runs stay PENDING for the next start)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self._settings.request_timeout_seconds + 1)

    async def _attempt(self, run: CraftRun) -> None:
        assert run.id is not None
        if run.id in self._in_flight:
            return
        self._in_flight.add(run.id)
        try:
            async with self._slots:
                await self._client.deliver(product_id=run.product_id, count=run.count, key=run.key)
            async with self._db.write() as session:
                await services.mark_delivered(session, run_id=run.id)
        except DeliveryFailed as error:
            logger.warning("run %s not delivered: %s", run.key, error)
            async with self._db.write() as session:
                await services.mark_attempt_failed(
                    session,
                    run_id=run.id,
                    error=str(error),
                    permanent=error.permanent,
                    max_attempts=self._settings.delivery_max_attempts,
                    retry=self._settings.delivery_retry_seconds,
                    max_backoff=self._settings.delivery_max_backoff_seconds,
                )
        finally:
            self._in_flight.discard(run.id)


class CraftScheduler:
    """One APScheduler job per active craft, firing on the craft's grid. The craft table is the truth:
    jobs live in memory and are rebuilt from it at start, so a restart resumes every schedule."""

    def __init__(self, *, db: Database, deliveries: Deliveries, enabled: bool) -> None:
        self._db = db
        self._deliveries = deliveries
        self.enabled = enabled
        self._scheduler = AsyncIOScheduler(timezone="UTC")

    async def start(self) -> None:
        """Schedule every active craft and start firing (no-op when disabled)."""
        if not self.enabled:
            return
        self._scheduler.start()
        async with self._db.read() as session:
            crafts = await services.active_crafts(session)
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
            max_instances=2,
        )

    def unschedule(self, craft_id: int) -> None:
        """Stop firing a craft at once."""
        if not self.enabled:
            return
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(_job_id(craft_id))

    async def fire(self, craft_id: int) -> None:
        """One fire: write the PENDING run first, then deliver it."""
        async with self._db.write() as session:
            run = await services.record_fire(session, craft_id=craft_id, fired_at=utcnow())
        if run is not None:
            self._deliveries.deliver_soon(run)


def _job_id(craft_id: int) -> str:
    return f"craft-{craft_id}"
