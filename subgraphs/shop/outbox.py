"""Relays the outbox: every check's purchase is recorded in the purchase subgraph exactly once."""

import logging
from datetime import datetime

from subgraphs._common.db import Database, utcnow
from subgraphs._common.poller import Poller
from subgraphs.shop import sales
from subgraphs.shop.clients import PurchaseClient, RecordFailed
from subgraphs.shop.sales import PurchaseRecord

logger = logging.getLogger(__name__)
_BATCH = 50


class OutboxRelay:
    """Sends due outbox rows, right after a buy and then on a timer with backoff until confirmed.

    Sending twice is harmless (the purchase subgraph records a check once), so a buy's immediate attempt
    and the timer never need to coordinate.
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
    ) -> None:
        self._db = db
        self._client = client
        self._retry = retry
        self._max_backoff = max_backoff
        self._inline_timeout = inline_timeout
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
        records = await self._db.read(sales.due_records, due_by=due_by or utcnow(), limit=_BATCH)
        sent = 0
        for record in records:
            sent += await self._send(record)
        return sent

    async def _send(self, record: PurchaseRecord, wait_seconds: float | None = None) -> bool:
        try:
            await self._client.record(record, wait_seconds=wait_seconds)
        except RecordFailed as error:
            logger.warning("purchase for check %s not recorded yet: %s", record.check_id, error)
            await self._db.write(
                sales.mark_failed,
                check_id=record.check_id,
                error=str(error),
                retry=self._retry,
                max_backoff=self._max_backoff,
            )
            return False
        await self._db.write(sales.mark_recorded, check_id=record.check_id)
        return True
