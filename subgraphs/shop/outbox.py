"""Relays the outbox: every check's purchase is recorded in the purchase subgraph exactly once."""

import asyncio
import logging
from datetime import datetime, timedelta

from opentelemetry import trace

from subgraphs._common import request_id
from subgraphs._common.db import Database, utcnow
from subgraphs._common.poller import Poller
from subgraphs.shop import sales
from subgraphs.shop.clients import PurchaseClient
from subgraphs.shop.sales import PurchaseRecord

logger = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)  # a no-op unless tracing is configured
_BATCH = 50
_PER_REQUEST = 25  # records per request: well within a subgraph's 100 aliases and 1,000 tokens


class OutboxRelay:
    """Sends outbox rows: right after a buy (the buy's own attempt), then, for what that did not confirm, on a
    timer with backoff until confirmed.

    Sending twice is harmless (the purchase subgraph records a check once), but rare: a row is claimed for
    each attempt (a lease), so the timer leaves a row alone while another attempt may still be under way.
    Confirmations are written in batches: many concurrent buys share one write transaction for them.
    """

    def __init__(
        self,
        *,
        db: Database,
        client: PurchaseClient,
        interval: float,
        retry: float,
        max_backoff: float,
        inline_timeout: float,
        request_timeout: float,
    ) -> None:
        self._db = db
        self._client = client
        self._retry = retry
        self._max_backoff = max_backoff
        self._inline_timeout = inline_timeout
        self._lease = timedelta(seconds=request_timeout + 1)
        self._confirmed: list[int] = []
        self._writing: asyncio.Task[None] | None = None
        self._waiting: list[tuple[PurchaseRecord, asyncio.Future[bool]]] = []
        self._inline: asyncio.Task[None] | None = None
        self.poller = Poller("outbox-relay", self.drain, interval=interval)

    @property
    def inline_seconds(self) -> float:
        """How long `record_now` waits for the purchase subgraph at most."""
        return self._inline_timeout

    async def record_now(self, record: PurchaseRecord) -> None:
        """Record one check's purchase at once (waiting briefly); what fails is left to the timer, woken.
        Concurrent buys share requests: records that arrive while one is under way go in the next."""
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((record, answer))
        if self._inline is None:
            self._inline = asyncio.create_task(self._send_waiting())
        if not await answer:
            self.poller.wake()

    async def _send_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:_PER_REQUEST], self._waiting[_PER_REQUEST:]
                confirmed = await self._send(
                    [record for record, _ in batch], wait_seconds=self._inline_timeout
                )
                for (_, answer), ok in zip(batch, confirmed, strict=True):
                    answer.set_result(ok)
        finally:
            self._inline = None

    async def drain(self, *, due_by: datetime | None = None) -> int:
        """Send once every record due by `due_by` (now, unless given); how many were confirmed."""
        now = utcnow()
        with request_id.use(None):
            records = await self._db.write(
                sales.claim_due_records, due_by=due_by or now, lease_until=now + self._lease, limit=_BATCH
            )
            sent = 0
            for start in range(0, len(records), _PER_REQUEST):
                with _tracer.start_as_current_span("shop.record_due_purchases"):
                    sent += sum(await self._send(records[start : start + _PER_REQUEST]))
        await self.flushed()
        return sent

    async def flushed(self) -> None:
        """Wait until every confirmation so far is written."""
        while self._writing is not None:
            await asyncio.shield(self._writing)

    async def _send(self, records: list[PurchaseRecord], wait_seconds: float | None = None) -> list[bool]:
        # One line per record sent, under its buy's request id: what was sent can be counted (idempotency
        # downstream would hide a double), and one grep follows a buy to its record, however late.
        for record in records:
            with request_id.use(record.request_id):
                logger.info("recording the purchase of check %s", record.check_id)
        outcome = await self._client.record(records, wait_seconds=wait_seconds)
        for record, failure in zip(records, outcome, strict=True):
            if failure is None:
                self._confirmed.append(record.check_id)
                continue
            with request_id.use(record.request_id):
                logger.warning("purchase for check %s not recorded yet: %s", record.check_id, failure)
            await self._db.write(
                sales.mark_failed,
                check_id=record.check_id,
                error=str(failure),
                permanent=failure.permanent,
                retry=self._retry,
                max_backoff=self._max_backoff,
            )
        if self._confirmed and self._writing is None:
            self._writing = asyncio.create_task(self._write_confirmed())
        return [failure is None for failure in outcome]

    async def _write_confirmed(self) -> None:
        try:
            while self._confirmed:
                check_ids, self._confirmed = self._confirmed, []
                await self._db.write(sales.mark_recorded, check_ids=check_ids)
        finally:
            self._writing = None
