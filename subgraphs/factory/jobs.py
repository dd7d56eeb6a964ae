"""The delivery job: fire -> PENDING run -> deliver through the router, retried.

Fires are cheap (they only note the craft and the time). Each round of one worker writes the noted fires as
PENDING runs and claims the due runs in one transaction, then sends them, many per request, without waiting
for the answers: the next round goes on writing the next second's fires while the shop applies these. A
thousand crafts firing in the same second cost a few transactions and requests, not thousands.
"""

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from opentelemetry import trace
from sqlmodel import Session

from subgraphs._common import request_id
from subgraphs._common.db import Database, utcnow
from subgraphs._common.poller import Poller
from subgraphs.factory import services
from subgraphs.factory.clients import DeliveryOrder, Refusal, RouterClient
from subgraphs.factory.metrics import LATENESS
from subgraphs.factory.services import DueRun
from subgraphs.factory.settings import Settings

logger = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)  # a no-op unless tracing is configured
_CLAIM_PER_ROUND = 2000
_PER_REQUEST = 500  # deliveries per request: one transaction each in the shop (its limit is 1,000)
_REQUESTS_AT_ONCE = 4


class Deliveries:
    """Turns fires into PENDING runs and delivers due runs until each is DELIVERED or FAILED."""

    def __init__(self, *, db: Database, client: RouterClient, settings: Settings) -> None:
        self._db = db
        self._client = client
        self._settings = settings
        self._fires: list[tuple[int, datetime]] = []
        self._requests = asyncio.Semaphore(_REQUESTS_AT_ONCE)
        self._sending: set[asyncio.Task[None]] = set()
        # A claimed run is left alone for longer than its request may take; if this process dies meanwhile,
        # the run is due again after that.
        self._lease = timedelta(seconds=settings.request_timeout_seconds + 1)
        self.poller = Poller("craft-deliveries", self._round, interval=settings.delivery_retry_seconds)

    def fired(self, craft_id: int, fired_at: datetime) -> None:
        """Note a fire; the worker writes its run and delivers it at once."""
        self._fires.append((craft_id, fired_at))
        self.poller.wake()

    async def drain(self, *, due_by: datetime | None = None) -> None:
        """One round (runs due by `due_by`, now unless given) and every delivery it sent, to their end."""
        await self._round(due_by=due_by)
        await self.settled()

    async def settled(self) -> None:
        """Wait for every delivery in flight to be answered and recorded."""
        while self._sending:
            await asyncio.gather(*self._sending)

    async def _round(self, *, due_by: datetime | None = None) -> None:
        fires, self._fires = self._fires, []
        now = utcnow()
        # A round is work no request started: it gets its own request id, stored on the runs it sends and
        # passed to the router and the shop, so one grep follows these deliveries through every process.
        with request_id.use(None):
            runs = await self._db.write(
                _record_and_claim,
                fires=fires,
                due_by=due_by or now,
                lease_until=now + self._lease,
                request_id=request_id.current(),
            )
            if not runs:
                return
            logger.info("delivering %d runs: %s", len(runs), ", ".join(run.key for run in runs[:20]))
            for start in range(0, len(runs), _PER_REQUEST):
                await self._requests.acquire()  # at most a few requests in flight; the round waits for one
                task = asyncio.create_task(self._deliver(runs[start : start + _PER_REQUEST]))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)

    async def _deliver(self, runs: list[DueRun]) -> None:
        try:
            with _tracer.start_as_current_span("factory.deliver", attributes={"runs": len(runs)}):
                outcome = await self._client.deliver(
                    [DeliveryOrder(key=run.key, product_id=run.product_id, count=run.count) for run in runs]
                )
        finally:
            self._requests.release()
        confirmed_at = utcnow()
        for run in runs:
            refusal = outcome[run.key]
            if refusal is None:
                LATENESS.observe((confirmed_at - run.scheduled_at).total_seconds())
            else:
                logger.warning("run %s not delivered: %s", run.key, refusal.error)
        await self._db.write(self._record, runs, outcome)

    def _record(self, session: Session, runs: Sequence[DueRun], outcome: dict[str, Refusal | None]) -> None:
        delivered = [run.id for run in runs if outcome[run.key] is None]
        if delivered:
            services.mark_delivered(session, run_ids=delivered)
        for run in runs:
            refusal = outcome[run.key]
            if refusal is None:
                continue
            services.mark_attempt_failed(
                session,
                run_id=run.id,
                error=refusal.error,
                permanent=refusal.permanent,
                retry=self._settings.delivery_retry_seconds,
                max_backoff=self._settings.delivery_max_backoff_seconds,
            )


def _record_and_claim(
    session: Session,
    *,
    fires: list[tuple[int, datetime]],
    due_by: datetime,
    lease_until: datetime,
    request_id: str | None,
) -> list[DueRun]:
    if fires:
        services.record_fires(session, fires, due_at=min(due_by, utcnow()))
    return services.claim_due(
        session, due_by=due_by, lease_until=lease_until, limit=_CLAIM_PER_ROUND, request_id=request_id
    )
