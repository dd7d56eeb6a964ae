"""Due work kept in a table and sent to another process until it is confirmed: the shop's outbox of purchases
to record and the factory's runs to deliver are two uses of this one mechanism.

A row is due from its `next_attempt_at`. A sender claims due rows for one attempt (a lease: they are not due
again before that attempt may have ended, so another sender, or the next round, leaves them alone), sends
them, many per request, and records each outcome: done; a transient failure, retried with the one backoff
rule for as long as it lasts; or a permanent one (retrying cannot help), kept with its error. Sending twice
is harmless (each peer applies an item once), but rare. Finished rows are pruned after a retention window.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from opentelemetry import trace
from sqlalchemy import ColumnElement, Table, delete, select, update
from sqlmodel import Session

from subgraphs._common import request_id
from subgraphs._common.backoff import Backoff
from subgraphs._common.db import Database, utcnow
from subgraphs._common.poller import Poller
from subgraphs._common.service_client import Refusal

logger = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)  # a no-op unless tracing is configured
MAX_ERROR = 500  # characters of an error kept on a row


@dataclass(frozen=True)
class WorkQueue:
    """A table of due work, told by its columns: which names a row to its sender (`key`, unique), which
    orders claims (`oldest_first`), which keeps the last error; which rows are `pending`, the values that
    mark a row `done` or `failed` for good at a time, and which rows `finished` before a time (to prune)."""

    table: Table
    key: str
    oldest_first: str
    error: str
    pending: ColumnElement[bool]
    done: Callable[[datetime], Mapping[str, Any]]
    failed: Callable[[datetime], Mapping[str, Any]]
    finished: Callable[[datetime], ColumnElement[bool]]

    def claim(
        self,
        session: Session,
        *,
        due_by: datetime,
        lease_until: datetime,
        limit: int,
        returning: Sequence[str],
        **stamp: object,
    ) -> Sequence[Any]:
        """Claim up to `limit` pending rows due by `due_by`, oldest first, for one attempt: they are not due
        again before `lease_until`. Sets the `stamp` columns too; the `returning` columns of each row."""
        columns = self.table.c
        due = (
            select(columns.id)
            .where(self.pending, columns.next_attempt_at <= due_by)
            .order_by(columns[self.oldest_first])
            .limit(limit)
            # PostgreSQL: replicas claim disjoint rows, none waiting for another's. SQLite renders no lock:
            # its one writer at a time already makes the claim whole.
            .with_for_update(skip_locked=True)
        )
        return session.execute(
            update(self.table)
            .where(columns.id.in_(due.scalar_subquery()))
            .values(next_attempt_at=lease_until, **stamp)
            .returning(*(columns[name] for name in returning))
        ).all()

    def record(
        self, session: Session, *, done: Sequence[Any], failed: Mapping[Any, Refusal], backoff: Backoff
    ) -> None:
        """The outcomes of attempts, by row key: `done` rows are finished; a `failed` row is tried again
        after the backoff, or, refused for good, finished with its error. Rows no longer pending (finished
        by another attempt meanwhile) are left as they are."""
        columns, now = self.table.c, utcnow()
        key = columns[self.key]
        if done:
            session.execute(update(self.table).where(key.in_(done), self.pending).values(**self.done(now)))
        if not failed:
            return
        tried = session.execute(select(key, columns.attempts).where(key.in_(list(failed)), self.pending))
        for row_key, attempts in tried.all():
            refusal = failed[row_key]
            values: dict[str, Any] = {"attempts": attempts + 1, self.error: refusal.error[:MAX_ERROR]}
            if refusal.permanent:
                values |= self.failed(now)
            else:
                values["next_attempt_at"] = backoff.next_attempt_at(attempts + 1)
            session.execute(update(self.table).where(key == row_key).values(**values))

    def prune(self, session: Session, before: datetime, limit: int) -> int:
        """Delete at most `limit` rows that finished before `before`; how many were deleted."""
        old = select(self.table.c.id).where(self.finished(before)).limit(limit).scalar_subquery()
        deleted = session.execute(
            delete(self.table).where(self.table.c.id.in_(old)).returning(self.table.c.id)
        )
        return len(deleted.all())


class Work(Protocol):
    """An item a sender sends: the key of its queue row."""

    @property
    def work_key(self) -> Any:
        """The value of its row's `WorkQueue.key` column."""
        ...


Item = TypeVar("Item", bound=Work)


class Sender(Generic[Item]):
    """Sends a queue's due work round by round: claims a round (on a timer, sooner when woken), sends it a
    batch per request with a few requests in flight, and records the outcomes. A use adds what is its own:
    how a round is claimed (`claim`) and how a batch is sent (`send`).

    Outcomes are written in batches: concurrent sends share one write transaction. A failure is on record
    before its send returns (its next attempt's time, or its error for good); a confirmation may follow, and
    with `confirm_by_round` waits for the next round (written before it claims, so this process never claims
    what it already sent): one write a round instead of one per batch.
    """

    span = "work.send"  # the trace span of a batch a round sends

    def __init__(
        self,
        name: str,
        *,
        db: Database,
        queue: WorkQueue,
        interval: float,
        backoff: Backoff,
        lease: timedelta,
        per_round: int,
        per_request: int,
        requests_at_once: int = 1,
        confirm_by_round: bool = False,
    ) -> None:
        self._name = name
        self._db = db
        self._queue = queue
        self._backoff = backoff
        # A claimed row is left alone for longer than its request may take; if this process dies meanwhile,
        # the row is due again after that.
        self._lease = lease
        self._per_round = per_round
        self._per_request = per_request
        self._requests = asyncio.Semaphore(requests_at_once)
        self._confirm_by_round = confirm_by_round
        self._sending: set[asyncio.Task[int]] = set()
        self._done: list[Any] = []
        self._failed: dict[Any, Refusal] = {}
        self._writing: asyncio.Task[None] | None = None
        self.poller = Poller(name, self._round, interval=interval)

    async def claim(self, *, due_by: datetime, lease_until: datetime, limit: int) -> list[Item]:
        """Claim up to `limit` items due by `due_by` until `lease_until` (in one write transaction)."""
        raise NotImplementedError

    async def send(self, items: list[Item], *, wait_seconds: float | None) -> list[Refusal | None]:
        """Send `items` in one request; per item, None when the peer confirmed it, else why not."""
        raise NotImplementedError

    def record(
        self, session: Session, *, done: Sequence[Any], failed: Mapping[Any, Refusal], backoff: Backoff
    ) -> None:
        """Write outcomes in one transaction (the queue's `record`; a use may add to it)."""
        self._queue.record(session, done=done, failed=failed, backoff=backoff)

    def start(self) -> None:
        """Run rounds on the timer, in the background of the current event loop."""
        self.poller.start()

    async def stop(self, *, grace: float) -> None:
        """Stop the timer after its current round, then wait for every send and outcome in flight."""
        await self.poller.stop(grace=grace)
        await self.settled()
        await self.flushed()

    async def drain(self, *, due_by: datetime | None = None) -> int:
        """One round (work due by `due_by`, now unless given), to its end: every batch answered and every
        outcome written. How many items were confirmed. Tests drive a stopped sender with it."""
        batches = await self._round(due_by=due_by)
        confirmed = sum(await asyncio.gather(*batches))
        await self.settled()
        await self.flushed()
        return confirmed

    async def settled(self) -> None:
        """Wait for every batch in flight to be answered (their errors are logged where they happen)."""
        while self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    async def flushed(self) -> None:
        """Write every outcome so far (confirmations waiting for a round too) and wait until it is written."""
        if self._writing is None and (self._done or self._failed):
            self._writing = asyncio.create_task(self._write())
        while self._writing is not None:
            await asyncio.shield(self._writing)

    async def attempt(self, items: list[Item], *, wait_seconds: float | None = None) -> list[bool]:
        """One attempt at `items`: send them in one request now and record the outcomes; per item, whether
        it was confirmed."""
        return await self._record(items, await self.send(items, wait_seconds=wait_seconds))

    async def _record(self, items: list[Item], outcome: list[Refusal | None]) -> list[bool]:
        for item, refusal in zip(items, outcome, strict=True):
            if refusal is None:
                self._done.append(item.work_key)
            else:
                self._failed[item.work_key] = refusal
        refused = any(refusal is not None for refusal in outcome)
        if refused:
            await self.flushed()
        elif self._writing is None and not self._confirm_by_round:
            self._writing = asyncio.create_task(self._write())
        return [refusal is None for refusal in outcome]

    async def _round(self, *, due_by: datetime | None = None) -> list[asyncio.Task[int]]:
        if self._confirm_by_round:
            await self.flushed()  # confirmations on record before the claim: never claimed here again
        now = utcnow()
        # A round is work no request started: it gets a request id of its own, passed on in its requests.
        with request_id.use(None):
            items = await self.claim(
                due_by=due_by or now, lease_until=now + self._lease, limit=self._per_round
            )
            batches = []
            for start in range(0, len(items), self._per_request):
                await self._requests.acquire()  # at most a few requests in flight: the round waits for one
                batch = asyncio.create_task(self._send_batch(items[start : start + self._per_request]))
                self._sending.add(batch)
                batch.add_done_callback(self._sent)
                batches.append(batch)
        return batches

    async def _send_batch(self, items: list[Item]) -> int:
        try:
            with _tracer.start_as_current_span(self.span, attributes={"items": len(items)}):
                outcome = await self.send(items, wait_seconds=None)
        finally:
            self._requests.release()  # the request is answered: the round may send its next batch
        return sum(await self._record(items, outcome))

    def _sent(self, batch: asyncio.Task[int]) -> None:
        self._sending.discard(batch)
        if not batch.cancelled() and (error := batch.exception()) is not None:
            # The batch's rows stay claimed until their lease ends; then they are due again.
            logger.error("%s: sending a batch failed", self._name, exc_info=error)

    async def _write(self) -> None:
        try:
            while self._done or self._failed:
                done, self._done = self._done, []
                failed, self._failed = self._failed, {}
                await self._db.write(self.record, done=done, failed=failed, backoff=self._backoff)
        finally:
            self._writing = None
