"""The event bus and what every live subscription shares: events only of committed transactions, bounded
queues that end a slow subscriber, interruptions that end every subscriber after what it already has, NOTIFY
payloads that fit, and subscriptions that end when their caller's token expires or session ends."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlmodel import Session

from subgraphs._common import events, live
from subgraphs._common.auth import Auth, Principal, Role
from subgraphs._common.db import Database
from subgraphs._common.ended_sessions import EndedSessions
from subgraphs._common.errors import Unauthenticated
from subgraphs._common.events import EventBus, SubscriberTooSlow, SubscriptionInterrupted
from subgraphs._common.jwks import KeyRing
from subgraphs._common.keys import KeyFolder
from subgraphs._common.verification import Verifier
from tests.support import IDENTITY, token
from tools import identity

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


async def test_a_prepared_read_is_done_once_per_event_before_subscribers_get_it_and_keeps_their_order(
    bus: EventBus,
) -> None:
    reads: list[int] = []
    release = {1: asyncio.Event(), 2: asyncio.Event()}
    finished = {1: asyncio.Event(), 2: asyncio.Event()}

    async def read(event: events.Event) -> int:
        value: int = event.items[0]["value"]
        reads.append(value)
        await release[value].wait()
        finished[value].set()
        return value * 10

    bus.prepare("things", "tens", read)
    with bus.subscribe("things") as first, bus.subscribe("things") as second:
        bus.dispatch(events.Event("things", [{"value": 1}]))
        bus.dispatch(events.Event("things", [{"value": 2}]))
        release[2].set()  # the later event's read ends first
        await finished[2].wait()
        assert await first.next(0) is None  # nothing before the first event is ready
        release[1].set()
        for subscriber in (first, second):
            for value in (1, 2):
                event = await subscriber.next(1)
                assert event is not None and event.items == [{"value": value}]

                async def unexpected() -> int:
                    raise AssertionError("read again")

                assert await event.shared("tens", unexpected) == value * 10
    assert reads == [1, 2]  # once per event, whatever the subscribers


async def test_events_sent_are_counted_in_the_metric_at_the_end_of_the_event_loops_turn() -> None:
    def counted() -> float:
        value = REGISTRY.get_sample_value("service_tree_subscription_events_total", {"field": "things"})
        return value or 0.0

    before = counted()
    for _ in range(1000):  # a fan-out's subscribers, all in one turn
        live.sent("things")
    assert counted() == before  # not one increment of the shared value per subscriber
    turn = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(turn.set_result, None)
    await turn
    assert counted() == before + 1000


def test_notify_payloads_hold_as_many_items_as_fit_and_keep_their_order() -> None:
    items = [{"id": n, "stock": n * 7, "version": n} for n in range(1000)]
    payloads = list(events._payloads("stock", items, "a-request-id"))
    assert len(payloads) > 1
    assert all(len(payload.encode()) < 8000 for payload in payloads)
    decoded = [events._event(payload) for payload in payloads]
    assert [item for event in decoded for item in event.items] == items
    assert {(event.topic, event.request_id) for event in decoded} == {("stock", "a-request-id")}
    assert json.loads(payloads[0])["items"][0] == items[0]


@pytest.fixture
def feed() -> list[dict[str, Any]]:
    """The ended-sessions feed `verifier` reads: entries a test appends."""
    return []


@pytest.fixture
async def verifier(feed: list[dict[str, Any]]) -> Verifier:
    """A verifier as a subgraph's, trusting the tests' signing key, reading `feed` for ended sessions and
    telling `live.recheck` of what ended."""
    folder = KeyFolder(IDENTITY / identity.KEYS)

    async def jwks() -> dict[str, Any]:
        return folder.current().jwks

    async def ended(cursor: str | None) -> dict[str, Any]:
        return {"ended": feed[int(cursor or 0) :], "cursor": str(len(feed))}

    return Verifier(KeyRing(jwks, cooldown=0), EndedSessions(ended, interval=1, on_end=live.recheck))


async def test_a_subscription_ends_with_unauthenticated_when_its_token_expires(
    bus: EventBus, verifier: Verifier
) -> None:
    soon = await verifier.authenticate(f"Bearer {token(1, ttl_seconds=1)}")
    assert soon.principal is not None
    async with live.watch(bus, "things", field="stockChanged", auth=soon) as changes:
        # No event comes: the timer at the token's expiry ends it.
        with pytest.raises(Unauthenticated):
            await asyncio.wait_for(anext(changes), 5)


async def test_a_subscription_ends_as_soon_as_its_session_is_known_to_have_ended(
    bus: EventBus, verifier: Verifier, feed: list[dict[str, Any]]
) -> None:
    mine, other = [
        await verifier.authenticate(f"Bearer {token(1, session=sid)}") for sid in ("mine", "other")
    ]
    async with (
        live.watch(bus, "things", field="stockChanged", auth=mine) as ending,
        live.watch(bus, "things", field="stockChanged", auth=other) as going_on,
    ):
        waiting = asyncio.ensure_future(anext(ending))
        await asyncio.sleep(0)  # it waits for its next event (or its 30-second check)
        feed.append({"sid": "mine", "reason": "LOGOUT", "until": time.time() + 600})
        await verifier.ended.poll()
        with pytest.raises(Unauthenticated):
            await asyncio.wait_for(waiting, 1)  # at the feed's answer, not at the next check
        bus.dispatch(events.Event("things", [{"value": 1}]))
        assert (await anext(going_on)).items == [{"value": 1}]  # another session's goes on
    assert live.recheck() == 0  # nothing left open


async def test_a_subscription_ends_as_soon_as_its_key_is_known_to_be_retired(bus: EventBus) -> None:
    folder = KeyFolder(IDENTITY / identity.KEYS)
    published = {"jwks": folder.current().jwks}

    async def jwks() -> dict[str, Any]:
        return published["jwks"]

    async def ended(cursor: str | None) -> dict[str, Any]:
        return {"ended": [], "cursor": cursor or "0"}

    keys = KeyRing(jwks, cooldown=0, on_retired=live.recheck)
    verifier = Verifier(keys, EndedSessions(ended, interval=1, on_end=live.recheck))
    signed = await verifier.authenticate(f"Bearer {token(1)}")
    anonymous = Auth(None)
    async with (
        live.watch(bus, "things", field="stockChanged", auth=signed) as ending,
        live.watch(bus, "things", field="stockChanged", auth=anonymous) as going_on,
    ):
        waiting = asyncio.ensure_future(anext(ending))
        await asyncio.sleep(0)  # it waits for its next event (or its 30-second check)
        published["jwks"] = {"keys": []}  # the key retired (with --force: its tokens are still unexpired)
        await keys.refresh()
        with pytest.raises(Unauthenticated):
            await asyncio.wait_for(waiting, 1)  # at the JWKS's refresh, not at the next check
        bus.dispatch(events.Event("things", [{"value": 1}]))
        assert (await anext(going_on)).items == [{"value": 1}]  # a caller without a token goes on
    assert live.recheck() == 0  # nothing left open


async def test_an_expired_or_bad_token_cannot_subscribe_and_anyone_else_can(
    bus: EventBus, verifier: Verifier
) -> None:
    expired = Auth(Principal(subject="1", role=Role.CUSTOMER), recheck=lambda: "Token expired")
    for refused in (expired, await verifier.authenticate("Bearer not.a.token")):
        with pytest.raises(Unauthenticated):
            async with live.watch(bus, "things", field="stockChanged", auth=refused):
                pass
    async with live.watch(bus, "things", field="stockChanged", auth=Auth(None)) as changes:
        bus.dispatch(events.Event("things", [{"value": 1}]))
        assert (await anext(changes)).items == [{"value": 1}]
