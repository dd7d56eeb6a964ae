"""Bounded tables: rows past a retention window are deleted in small batches, in the background."""

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlmodel import Session

from subgraphs._common.db import Database, utcnow
from subgraphs._common.poller import Poller

logger = logging.getLogger(__name__)
BATCH = 5_000  # rows per delete: short write transactions that never hold the writer for long

# prune(session, before, limit) deletes at most `limit` rows older than `before`; how many it deleted.
Prune = Callable[[Session, datetime, int], int]


class Pruner:
    """Every `interval` seconds, deletes what each of `prunes` finds past `retention`, batch by batch."""

    def __init__(
        self, name: str, *, db: Database, prunes: Sequence[Prune], retention: timedelta, interval: float
    ) -> None:
        self._db = db
        self._prunes = prunes
        self._retention = retention
        self.poller = Poller(name, self.prune, interval=interval)

    async def prune(self) -> int:
        """Delete everything past the retention window now; how many rows went."""
        before, total = utcnow() - self._retention, 0
        for prune in self._prunes:
            while True:
                deleted = await self._db.write(prune, before, BATCH)
                total += deleted
                if deleted < BATCH:
                    break
        if total:
            logger.info("pruned %d rows older than %s", total, before.isoformat())
        return total
