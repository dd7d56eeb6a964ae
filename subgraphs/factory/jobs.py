"""The delivery job: fire -> PENDING run -> deliver through the router, retried (the run queue's sender).

Fires are cheap (they only note the craft and the slot). Each round of one worker writes the noted fires as
PENDING runs and claims the due runs in one transaction, then sends them, many per request, without waiting
for the answers: the next round goes on writing the next second's fires while the shop applies these. A
thousand crafts firing in the same second cost a few transactions and requests, not thousands.
"""

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from subgraphs._common import request_id
from subgraphs._common.backoff import Backoff
from subgraphs._common.db import Database, utcnow
from subgraphs._common.service_client import Refusal
from subgraphs._common.work_queue import Sender
from subgraphs.factory import runs
from subgraphs.factory.clients import DeliveryOrder, RouterClient
from subgraphs.factory.metrics import LATENESS
from subgraphs.factory.runs import DueRun
from subgraphs.factory.settings import Settings

logger = logging.getLogger(__name__)
_CLAIM_PER_ROUND = 2000
_PER_REQUEST = 500  # deliveries per request: one transaction each in the shop (its limit is 1,000)
_REQUESTS_AT_ONCE = 4


class Deliveries(Sender[DueRun]):
    """Turns fires into PENDING runs and delivers due runs until each is DELIVERED or FAILED."""

    span = "factory.deliver"

    def __init__(self, *, db: Database, client: RouterClient, settings: Settings) -> None:
        super().__init__(
            "craft-deliveries",
            db=db,
            queue=runs.RUNS,
            interval=settings.delivery_retry_seconds,
            backoff=Backoff(first=settings.delivery_retry_seconds, cap=settings.delivery_max_backoff_seconds),
            lease=timedelta(seconds=settings.request_timeout_seconds + 1),
            per_round=_CLAIM_PER_ROUND,
            per_request=_PER_REQUEST,
            requests_at_once=_REQUESTS_AT_ONCE,
        )
        self._client = client
        self._fires: list[tuple[int, datetime]] = []

    def fired(self, craft_id: int, slot: datetime) -> None:
        """Note a fire of a craft's slot; the worker writes its run and delivers it at once."""
        self._fires.append((craft_id, slot))
        self.poller.wake()

    async def claim(self, *, due_by: datetime, lease_until: datetime, limit: int) -> list[DueRun]:
        """Write the fires noted so far as runs, and claim the runs due by `due_by`, in one transaction."""
        fires, self._fires = self._fires, []
        # The round's request id is stored on the runs it sends and passed to the router and the shop, so
        # one grep follows these deliveries through every process.
        claimed = await self._db.write(
            runs.record_and_claim,
            fires=fires,
            due_by=due_by,
            lease_until=lease_until,
            limit=limit,
            request_id=request_id.current(),
        )
        if claimed:
            logger.info("delivering %d runs: %s", len(claimed), ", ".join(run.key for run in claimed[:20]))
        return claimed

    def record(
        self, session: Session, *, done: Sequence[Any], failed: Mapping[Any, Refusal], backoff: Backoff
    ) -> None:
        """Write outcomes, and publish the runs' changes (the craftRunChanged subscription)."""
        runs.record_outcomes(session, done=done, failed=dict(failed), backoff=backoff)

    async def send(self, items: list[DueRun], *, wait_seconds: float | None) -> list[Refusal | None]:
        """Deliver `items` in one request (one transaction in the shop)."""
        outcome = await self._client.deliver(
            [DeliveryOrder(key=run.key, product_id=run.product_id, count=run.count) for run in items],
            wait_seconds=wait_seconds,
        )
        confirmed_at = utcnow()
        for run, refusal in zip(items, outcome, strict=True):
            if refusal is None:
                LATENESS.observe((confirmed_at - run.scheduled_at).total_seconds())
            else:
                logger.warning("run %s not delivered: %s", run.key, refusal.error)
        return outcome
