"""Relays the outbox: every check's purchase is recorded in the purchase subgraph exactly once."""

import logging

from subgraphs._common.db import Database
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
        max_backoff: float,
        inline_timeout: float,
    ) -> None:
        self._db = db
        self._inline_timeout = inline_timeout
        self._client = client
        self._max_backoff = max_backoff
        self.poller = Poller("outbox-relay", self.drain, interval=interval)

    async def record_now(self, record: PurchaseRecord) -> bool:
        """Try to record one check's purchase at once (briefly); False leaves it to the timer."""
        return await self._send(record, wait_seconds=self._inline_timeout)

    async def drain(self) -> int:
        """Send every due record once; how many were confirmed."""
        async with self._db.read() as session:
            records = await sales.due_records(session, limit=_BATCH)
        sent = 0
        for record in records:
            sent += await self._send(record)
        return sent

    async def _send(self, record: PurchaseRecord, wait_seconds: float | None = None) -> bool:
        try:
            await self._client.record(record, wait_seconds=wait_seconds)
        except RecordFailed as error:
            logger.warning("purchase for check %s not recorded yet: %s", record.check_id, error)
            async with self._db.write() as session:
                await sales.mark_failed(
                    session, check_id=record.check_id, error=str(error), max_backoff=self._max_backoff
                )
            return False
        async with self._db.write() as session:
            await sales.mark_recorded(session, check_id=record.check_id)
        return True
