"""Relays the outbox: every check's purchase is recorded in the purchase subgraph exactly once."""

import asyncio
import logging
from datetime import datetime, timedelta

from subgraphs._common.db import Database, utcnow
from subgraphs._common.poller import Poller
from subgraphs.shop import sales
from subgraphs.shop.clients import PurchaseClient, RecordFailed
from subgraphs.shop.sales import PurchaseRecord

logger = logging.getLogger(__name__)
_BATCH = 50


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
        self.poller = Poller("outbox-relay", self.drain, interval=interval)

    @property
    def inline_seconds(self) -> float:
        """How long `record_now` waits for the purchase subgraph at most."""
        return self._inline_timeout

    async def record_now(self, record: PurchaseRecord) -> None:
        """Try to record one check's purchase at once (briefly); what fails is left to the timer, woken."""
        if not await self._send(record, wait_seconds=self._inline_timeout):
            self.poller.wake()

    async def drain(self, *, due_by: datetime | None = None) -> int:
        """Send once every record due by `due_by` (now, unless given); how many were confirmed."""
        now = utcnow()
        records = await self._db.write(
            sales.claim_due_records, due_by=due_by or now, lease_until=now + self._lease, limit=_BATCH
        )
        sent = sum(await asyncio.gather(*(self._send(record) for record in records)))
        await self.flushed()
        return sent

    async def flushed(self) -> None:
        """Wait until every confirmation so far is written."""
        while self._writing is not None:
            await asyncio.shield(self._writing)

    async def _send(self, record: PurchaseRecord, wait_seconds: float | None = None) -> bool:
        try:
            await self._client.record(record, wait_seconds=wait_seconds)
        except RecordFailed as error:
            logger.warning("purchase for check %s not recorded yet: %s", record.check_id, error)
            await self._db.write(
                sales.mark_failed,
                check_id=record.check_id,
                error=str(error),
                permanent=error.permanent,
                retry=self._retry,
                max_backoff=self._max_backoff,
            )
            return False
        self._confirmed.append(record.check_id)
        if self._writing is None:
            self._writing = asyncio.create_task(self._write_confirmed())
        return True

    async def _write_confirmed(self) -> None:
        try:
            while self._confirmed:
                check_ids, self._confirmed = self._confirmed, []
                await self._db.write(sales.mark_recorded, check_ids=check_ids)
        finally:
            self._writing = None
