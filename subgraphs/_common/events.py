"""Events of committed changes, fanned out to the live subscriptions of every process of a subgraph.

A change publishes its event in its own transaction (`publish`), and it is seen only if that transaction
commits:
- on PostgreSQL, as a NOTIFY: PostgreSQL delivers it at commit, to every process LISTENing on the subgraph's
  database (this one included), and drops it on rollback. Each process holds one dedicated listening
  connection (psycopg 3's async connection and its `notifies()`); no broker of our own.
- on SQLite, through `after_commit`: one process per database, so the event goes to its own subscribers.

Each process's subscribers get every event of their topic in a bounded queue; a subscriber that falls behind
is ended (`SubscriberTooSlow`) rather than buffered without bound. When the listening connection is lost, or
the process stops, events may have been missed: every subscriber is ended with `SubscriptionInterrupted`
(a coded end the client answers by subscribing again), never left open over a silent gap.
"""

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import Session

from subgraphs._common import request_id
from subgraphs._common.backoff import retry_delay
from subgraphs._common.db import Database, after_commit
from subgraphs._common.errors import AppError, ServiceUnavailable

logger = logging.getLogger(__name__)
T = TypeVar("T")

CHANNEL = "service_tree_events"  # one channel per database: the subgraph's own processes listen on it
_BUS = "service_tree_event_bus"
_NOTIFY_BYTES = 7_900  # PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more
APPLICATION_NAME = "events"  # how the listening connection shows in pg_stat_activity (with host:pid)


class SubscriptionInterrupted(AppError):
    """Events may have been missed (the process lost its listening connection, or is stopping)."""

    code = "SUBSCRIPTION_INTERRUPTED"


class SubscriberTooSlow(AppError):
    """The subscriber did not take its events as fast as they came."""

    code = "SUBSCRIBER_TOO_SLOW"


@dataclass
class Event:
    """Committed changes of one topic from one transaction: JSON `items`, and the request id of the change."""

    topic: str
    items: list[dict[str, Any]]
    request_id: str | None = None
    _shared: dict[str, asyncio.Future[Any]] = field(default_factory=dict, repr=False)

    async def shared(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        """`compute()`, once per event in this process whatever its number of subscribers (the first one to
        ask computes, the others await the same result): a read shared by every subscriber of the event."""
        future = self._shared.get(key)
        if future is None:
            future = self._shared[key] = asyncio.ensure_future(compute())
        if future.done():  # prepared (`EventBus.prepare`), or every subscriber after the first few
            result: T = future.result()
            return result
        return await asyncio.shield(future)

    def _prepare(self, key: str, compute: Callable[["Event"], Awaitable[Any]]) -> asyncio.Future[Any]:
        future = self._shared[key] = asyncio.ensure_future(compute(self))
        return future


def bus_of(db: Database) -> "EventBus":
    """The event bus of the app that opened `db` (its subscriptions subscribe there)."""
    bus: EventBus = db.session_info[_BUS]
    return bus


def publish(session: Session, topic: str, items: Sequence[dict[str, Any]]) -> None:
    """Publish `items` (JSON objects) of `topic` if, and once, the transaction of `session` commits."""
    bus: EventBus | None = session.info.get(_BUS)
    if bus is None or not items:
        return  # a session of a script (seed, admin command): no process of this one serves subscriptions
    bus.stage(session, topic, list(items), request_id.current())


def notice(session: Session, topic: str, items: Sequence[dict[str, Any]]) -> str | None:
    """`publish`, for a change on PostgreSQL that sends its event within a statement it makes anyway (a
    `pg_notify(CHANNEL, notice)` column: no round trip of its own): the one NOTIFY payload of `items`. None
    when there is no such payload (SQLite, no bus, items that need two): then `publish` has published them."""
    payload = _one_payload(session, topic, items) if items else None
    if payload is None:
        publish(session, topic, items)
    return payload


def _one_payload(session: Session, topic: str, items: Sequence[dict[str, Any]]) -> str | None:
    """The one NOTIFY payload of `items` for a statement of `session` to send, or None when a statement
    cannot send them (SQLite, no bus, items that need two payloads)."""
    bus: EventBus | None = session.info.get(_BUS)
    if bus is None or bus._db.is_sqlite:
        return None
    payloads = list(_payloads(topic, list(items), request_id.current()))
    return payloads[0] if len(payloads) == 1 else None


# Stands for the value the statement makes: found nowhere else in a payload (PostgreSQL's text holds no NUL).
_MARK = "\u0000"


def notice_around(session: Session, topic: str, item: dict[str, Any], *, key: str) -> tuple[str, str] | None:
    """`notice`, for one new row whose `key` (its id) only the statement that writes it knows: the payload's
    text before and after that value, for a `pg_notify(CHANNEL, before || id || after)` column. None when
    there is no such payload (SQLite, no bus, an item too big): then the caller publishes the row once
    written (`publish`); nothing is published here."""
    payload = _one_payload(session, topic, [item | {key: _MARK}])
    parts = payload.split(json.dumps(_MARK)) if payload is not None else []
    return (parts[0], parts[1]) if len(parts) == 2 else None


class Subscriber:
    """One subscription's queue of events (at most `limit`), ended by the bus when it cannot go on."""

    def __init__(self, bus: "EventBus", topic: str, limit: int) -> None:
        self._bus = bus
        self.topic = topic
        self._limit = limit
        self._events: deque[Event] = deque()
        self._ready = asyncio.Event()
        self._end: AppError | None = None

    def put(self, event: Event) -> None:
        if self._end is not None:
            return
        if len(self._events) >= self._limit:
            self.end(SubscriberTooSlow(f"More than {self._limit} events waited for this subscriber"))
            return
        self._events.append(event)
        self._ready.set()

    def end(self, error: AppError) -> None:
        """End with `error` once the events already queued are taken."""
        if self._end is None:
            self._end = error
            self._ready.set()

    async def next(self, wait_seconds: float | None) -> Event | None:
        """The next event; None when `wait_seconds` passed without one. Raises the error it ended with."""
        if not self._events and self._end is None:
            self._ready.clear()
            # asyncio.timeout, not wait_for: wait_for wraps the wait in a task of its own, on every event of
            # every subscriber.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_seconds):
                    await self._ready.wait()
        if self._end is not None and not isinstance(self._end, SubscriberTooSlow) and self._events:
            return self._events.popleft()
        if self._end is not None:
            raise self._end
        return self._events.popleft() if self._events else None


class EventBus:
    """This process's events: published by its transactions, fanned out to its subscribers.

    On PostgreSQL `start` opens the listening connection before the app serves, and a background task keeps
    it, reconnecting after a loss; while it is down, new subscriptions are refused (SERVICE_UNAVAILABLE).
    """

    def __init__(self, db: Database, *, queue_limit: int) -> None:
        self._db = db
        self._queue_limit = queue_limit
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._preparations: dict[str, tuple[str, Callable[[Event], Awaitable[Any]]]] = {}
        self._preparing: dict[str, deque[tuple[Event, asyncio.Future[Any] | None]]] = {}
        self._listening = db.is_sqlite  # SQLite needs no connection; PostgreSQL once LISTEN is done
        self._task: asyncio.Task[None] | None = None
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._stopping = False
        db.session_info[_BUS] = self

    @property
    def listening(self) -> bool:
        """Whether events of other processes reach this one now."""
        return self._listening

    async def start(self) -> None:
        """Start listening (PostgreSQL): returns once LISTEN is in place, so no committed change is missed."""
        if self._db.is_sqlite:
            return
        await self._connect()
        self._task = asyncio.create_task(self._listen(), name="event-listener")

    async def stop(self) -> None:
        """End every subscription (the process is stopping: they cannot go on here) and stop listening."""
        if self._stopping:
            return
        self._stopping = True
        self._interrupt("This process is stopping; subscribe again")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None:
            await self._connection.close()

    @contextlib.contextmanager
    def subscribe(self, topic: str) -> Iterator[Subscriber]:
        """A subscriber to `topic` for the block (registered before the block reads any state, so a change
        committed meanwhile is in its queue). SERVICE_UNAVAILABLE while events of other processes would be
        missed."""
        if not self._listening:
            raise ServiceUnavailable("Live updates are unavailable right now; try again shortly")
        subscriber = Subscriber(self, topic, self._queue_limit)
        subscribers = self._subscribers.setdefault(topic, set())
        subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            subscribers.discard(subscriber)

    def stage(self, session: Session, topic: str, items: list[dict[str, Any]], origin: str | None) -> None:
        """Make `items` an event of the transaction of `session` (see `publish`)."""
        if self._db.is_sqlite:
            event = Event(topic, items, origin)
            after_commit(session, lambda: self.dispatch(event))
            return
        for payload in _payloads(topic, items, origin):
            # Transactional: PostgreSQL delivers it when the transaction commits, and never if it rolls back.
            session.execute(select(func.pg_notify(CHANNEL, payload)))

    def prepare(self, topic: str, key: str, compute: Callable[[Event], Awaitable[Any]]) -> None:
        """From now on, compute `event.shared(key, ...)` of each event of `topic` (`compute(event)`) once, as
        the event comes and before any subscriber takes it: they find it done, instead of a thousand of them
        each awaiting the first one's computation. Events of the topic still reach subscribers in order."""
        self._preparations[topic] = (key, compute)

    def dispatch(self, event: Event) -> None:
        """Hand `event` to every subscriber of its topic in this process (once prepared, see `prepare`)."""
        preparation = self._preparations.get(event.topic)
        waiting = self._preparing.setdefault(event.topic, deque())
        if preparation is None or not self._subscribers.get(event.topic):
            waiting.append((event, None))
        else:
            future = event._prepare(*preparation)
            waiting.append((event, future))
            future.add_done_callback(lambda _: self._deliver_prepared(event.topic))
        self._deliver_prepared(event.topic)

    def _deliver_prepared(self, topic: str) -> None:
        waiting = self._preparing[topic]
        while waiting and (waiting[0][1] is None or waiting[0][1].done()):
            event, future = waiting.popleft()
            if future is not None and not future.cancelled():
                future.exception()  # a failed read: raised to the subscribers who ask for it, not logged
            self._deliver(event)

    def _deliver(self, event: Event) -> None:
        subscribers = list(self._subscribers.get(event.topic, ()))
        for subscriber in subscribers:
            subscriber.put(event)
        if subscribers:
            with request_id.use(event.request_id) if event.request_id else contextlib.nullcontext():
                logger.info(
                    "event %s: %d changes to %d subscribers", event.topic, len(event.items), len(subscribers)
                )

    def _interrupt(self, message: str) -> None:
        for subscribers in self._subscribers.values():
            for subscriber in subscribers:
                subscriber.end(SubscriptionInterrupted(message))

    async def _connect(self) -> None:
        url = make_url(self._db.url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await psycopg.AsyncConnection.connect(
            url, autocommit=True, application_name=f"{APPLICATION_NAME} {socket.gethostname()}:{os.getpid()}"
        )
        await connection.execute(f"LISTEN {CHANNEL}")
        self._connection = connection
        self._listening = True

    async def _listen(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                if self._connection is None:
                    await self._connect()
                    failures = 0
                    logger.info("event listener: listening again")
                assert self._connection is not None
                async for notify in self._connection.notifies():
                    self.dispatch(_event(notify.payload))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any loss of the connection: subscribers may have missed events
                failures += 1
                if self._listening:
                    logger.warning("event listener lost its connection (%s); ending subscriptions", error)
                self._listening = False
                self._interrupt("Events may have been missed; subscribe again")
                if self._connection is not None:
                    with contextlib.suppress(Exception):
                        await self._connection.close()
                    self._connection = None
                await asyncio.sleep(retry_delay(failures, first=0.2, cap=5.0))


def _payloads(topic: str, items: list[dict[str, Any]], origin: str | None) -> Iterator[str]:
    """NOTIFY payloads of `items`, as many items in each as fit."""
    head = {"topic": topic, "request_id": origin}
    batch: list[str] = []
    size = len(json.dumps({**head, "items": []}))
    for item in items:
        encoded = json.dumps(item, separators=(",", ":"), default=str)
        if batch and size + len(encoded) + 1 > _NOTIFY_BYTES:
            yield _payload(head, batch)
            batch, size = [], len(json.dumps({**head, "items": []}))
        batch.append(encoded)
        size += len(encoded) + 1
    if batch:
        yield _payload(head, batch)


def _payload(head: dict[str, Any], items: list[str]) -> str:
    return json.dumps(head)[:-1] + ',"items":[' + ",".join(items) + "]}"


def _event(payload: str) -> Event:
    data = json.loads(payload)
    return Event(str(data["topic"]), list(data["items"]), data.get("request_id"))
