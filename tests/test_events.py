"""The event bus and what every live subscription shares: events only of committed transactions, bounded
queues that end a slow subscriber, interruptions that end every subscriber after what it already has, NOTIFY
payloads that fit, and subscriptions that end when their caller's token expires."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from subgraphs._common import events, live
from subgraphs._common.auth import Auth, Principal, Role
from subgraphs._common.db import Database, utcnow
from subgraphs._common.errors import Unauthenticated
from subgraphs._common.events import EventBus, SubscriberTooSlow, SubscriptionInterrupted

pytestmark = pytest.mark.db_agnostic


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[EventBus]:
    db = Database(f"sqlite:///{tmp_path / 'events.db'}")
    bus = EventBus(db, queue_limit=3)
    await bus.start()
    yield bus
    await bus.stop()
    await db.dispose()


def _change(session: Session, *, value: int, fail: bool = False) -> None:
    events.publish(session, "things", [{"value": value}])
    if fail:
        raise RuntimeError("rolled back")


async def test_an_event_is_published_once_its_transaction_commits_and_never_after_a_rollback(
    bus: EventBus,
) -> None:
    db = bus._db
    with bus.subscribe("things") as subscriber:
        with pytest.raises(RuntimeError):
            await db.write(_change, value=1, fail=True)
        await db.write(_change, value=2)
        event = await subscriber.next(0)
        assert event is not None and event.items == [{"value": 2}]
        assert await subscriber.next(0) is None  # the rolled-back change sent nothing


async def test_a_subscriber_past_its_backlog_is_ended_at_once(bus: EventBus) -> None:
    with bus.subscribe("things") as subscriber:
        for value in range(4):
            bus.dispatch(events.Event("things", [{"value": value}]))
        with pytest.raises(SubscriberTooSlow) as ended:
            await subscriber.next(0)
        assert ended.value.extensions == {"code": "SUBSCRIBER_TOO_SLOW"}


async def test_stopping_ends_every_subscriber_after_the_events_it_already_has(bus: EventBus) -> None:
    with bus.subscribe("things") as subscriber, bus.subscribe("other") as other:
        bus.dispatch(events.Event("things", [{"value": 1}]))
        await bus.stop()
        event = await subscriber.next(0)
        assert event is not None and event.items == [{"value": 1}]
        with pytest.raises(SubscriptionInterrupted):
            await subscriber.next(0)
        with pytest.raises(SubscriptionInterrupted):
            await other.next(None)  # a waiting subscriber is woken, not left waiting


def test_notify_payloads_hold_as_many_items_as_fit_and_keep_their_order() -> None:
    items = [{"id": n, "stock": n * 7, "version": n} for n in range(1000)]
    payloads = list(events._payloads("stock", items, "a-request-id"))
    assert len(payloads) > 1
    assert all(len(payload.encode()) < 8000 for payload in payloads)
    decoded = [events._event(payload) for payload in payloads]
    assert [item for event in decoded for item in event.items] == items
    assert {(event.topic, event.request_id) for event in decoded} == {("stock", "a-request-id")}
    assert json.loads(payloads[0])["items"][0] == items[0]


async def test_a_subscription_ends_with_unauthenticated_when_its_token_expires(bus: EventBus) -> None:
    soon = Principal(subject="1", role=Role.CUSTOMER, expires_at=utcnow() + timedelta(seconds=0.3))
    async with live.watch(bus, "things", field="stockChanged", auth=Auth(soon)) as changes:
        # No event comes: the timer at the token's expiry ends it.
        with pytest.raises(Unauthenticated):
            await asyncio.wait_for(anext(changes), 5)


async def test_an_expired_or_bad_token_cannot_subscribe_and_anyone_else_can(bus: EventBus) -> None:
    gone = Principal(subject="1", role=Role.CUSTOMER, expires_at=utcnow() - timedelta(seconds=1))
    for refused in (Auth(gone), Auth(None, "Invalid token")):
        with pytest.raises(Unauthenticated):
            async with live.watch(bus, "things", field="stockChanged", auth=refused):
                pass
    assert await live.still_valid(None, utcnow())
    assert await live.still_valid(Principal(subject="seed", role=Role.ADMIN), utcnow())
    async with live.watch(bus, "things", field="stockChanged", auth=Auth(None)) as changes:
        bus.dispatch(events.Event("things", [{"value": 1}]))
        assert (await anext(changes)).items == [{"value": 1}]
