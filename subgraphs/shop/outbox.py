"""The outbox: every check's purchase is recorded in the purchase subgraph exactly once.

A buy writes its outbox row in its own transaction; the relay then sends it, at once (the buy's own attempt),
and, for what that did not confirm, on a timer with backoff until confirmed (`subgraphs._common.work_queue`).
"""

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlmodel import Session

from subgraphs._common import request_id, rows
from subgraphs._common.auth import Principal, Role
from subgraphs._common.backoff import Backoff
from subgraphs._common.db import Database
from subgraphs._common.service_client import Refusal
from subgraphs._common.work_queue import Sender, WorkQueue
from subgraphs.shop.clients import PurchaseClient, PurchaseRecord
from subgraphs.shop.models import Check, Outbox

logger = logging.getLogger(__name__)
_PER_ROUND = 50
_PER_REQUEST = 25  # records per request: well within a subgraph's 100 aliases and 1,000 tokens

_OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
# Attempts count the failed ones (the API's `attempts`); a row refused for good is kept for an ADMIN, and
# only sent rows are pruned.
OUTBOX = WorkQueue(
    table=_OUTBOX,
    key="check_id",
    oldest_first="id",
    error="last_error",
    pending=_OUTBOX.c.sent_at.is_(None) & _OUTBOX.c.failed_at.is_(None),
    done=lambda now: {"sent_at": now},
    failed=lambda now: {"failed_at": now},
    finished=lambda before: _OUTBOX.c.sent_at < before,
)


class Recorder(Protocol):
    """Records purchases in the purchase subgraph (the outbox relay)."""

    @property
    def inline_seconds(self) -> float:
        """How long `record_now` may take at most."""
        ...

    async def record_now(self, record: PurchaseRecord) -> None:
        """Try at once, briefly; the outbox retries what this does not confirm."""


def purchase_record(
    check_id: int, check: Mapping[str, Any], *, request_id: str | None = None
) -> PurchaseRecord:
    """What the purchase subgraph is told about the check `check_id` of these columns (a Check's, by name;
    bought in request `request_id`)."""
    return PurchaseRecord(
        check_id=check_id,
        user_id=check["user_id"],
        name=check["purchase_name"],
        payment=check["payment"],
        total=check["total"],
        created_at=check["created_at"],
        request_id=request_id,
    )


def claim_due_records(
    session: Session, *, due_by: datetime, lease_until: datetime, limit: int
) -> list[PurchaseRecord]:
    """Claim up to `limit` purchases whose recording is due by `due_by`, oldest first, for one attempt."""
    claimed = OUTBOX.claim(
        session, due_by=due_by, lease_until=lease_until, limit=limit, returning=("check_id", "request_id")
    )
    if not claimed:
        return []  # the common case of a timer round: nothing due, and no second statement
    origins: dict[int, str | None] = {row[0]: row[1] for row in claimed}
    checks = rows.by_ids(session, Check, sorted(origins))
    return [
        purchase_record(check_id, check.model_dump(), request_id=origins[check_id])
        for check_id, check in checks.items()
    ]


def recordings(session: Session, *, actor: Principal, check_ids: Sequence[int]) -> dict[int, Outbox]:
    """How recording each check's purchase went (ADMIN)."""
    actor.require(Role.ADMIN)
    return rows.by_ids(session, Outbox, check_ids, key="check_id")


class OutboxRelay(Sender[PurchaseRecord]):
    """Sends outbox rows: right after a buy (the buy's own attempt), then, for what that did not confirm, on a
    timer with backoff until confirmed. Concurrent buys share requests: records that arrive while one is
    under way go in the next."""

    span = "shop.record_due_purchases"

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
        super().__init__(
            "outbox-relay",
            db=db,
            queue=OUTBOX,
            interval=interval,
            backoff=Backoff(first=retry, cap=max_backoff),
            lease=timedelta(seconds=request_timeout + 1),
            per_round=_PER_ROUND,
            per_request=_PER_REQUEST,
            # A buy's row is not due before twice its own attempt's time (`first_due` in buying): when rounds
            # come sooner, its confirmation waits for this process's next round, written with those of every
            # buy in between, before any other process would find the row due.
            confirm_by_round=interval < 2 * inline_timeout,
        )
        self._client = client
        self._inline_timeout = inline_timeout
        self._waiting: list[tuple[PurchaseRecord, asyncio.Future[bool]]] = []
        self._inline: asyncio.Task[None] | None = None

    @property
    def inline_seconds(self) -> float:
        """How long `record_now` waits for the purchase subgraph at most."""
        return self._inline_timeout

    async def record_now(self, record: PurchaseRecord) -> None:
        """Record one check's purchase at once (waiting briefly); what fails is left to the timer, woken."""
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
                try:
                    confirmed = await self.attempt(
                        [record for record, _ in batch], wait_seconds=self._inline_timeout
                    )
                except Exception:  # the buys must not wait forever: their rows are the timer's now
                    logger.exception("recording purchases at once failed; the outbox retries them")
                    confirmed = [False] * len(batch)
                for (_, answer), ok in zip(batch, confirmed, strict=True):
                    answer.set_result(ok)
        finally:
            self._inline = None

    async def claim(self, *, due_by: datetime, lease_until: datetime, limit: int) -> list[PurchaseRecord]:
        """Claim the records due by `due_by`."""
        return await self._db.write(claim_due_records, due_by=due_by, lease_until=lease_until, limit=limit)

    async def send(self, items: list[PurchaseRecord], *, wait_seconds: float | None) -> list[Refusal | None]:
        """Record `items` in one request."""
        # One line per record sent, under its buy's request id: what was sent can be counted (idempotency
        # downstream would hide a double), and one grep follows a buy to its record, however late.
        for record in items:
            with request_id.use(record.request_id):
                logger.info("recording the purchase of check %s", record.check_id)
        outcome = await self._client.record(items, wait_seconds=wait_seconds)
        for record, refusal in zip(items, outcome, strict=True):
            if refusal is not None:
                with request_id.use(record.request_id):
                    logger.warning(
                        "purchase for check %s not recorded yet: %s", record.check_id, refusal.error
                    )
        return outcome
