"""Fires become PENDING runs keyed by craft and slot; deliveries are retried, idempotent and bounded.

Tests that drive the delivery worker themselves stop its timer first, then run its rounds with `drain`:
what they assert is what one round, or three, did.
"""

import asyncio
import itertools
from datetime import datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from subgraphs._common.db import utcnow
from subgraphs._common.retention import Pruner
from subgraphs.factory.context import Resources
from subgraphs.factory.models import Craft
from subgraphs.factory.runs import RUNS as RUN_QUEUE
from subgraphs.factory.runs import record_fires
from tests.factory.fixtures import make_craft, make_factory
from tests.shop.fixtures import ADMIN, catalog
from tests.support import Link, gql, poll

RUNS = "query($id: ID!) { craft(id: $id) { runs(last: 50) { key status attempts error scheduledAt finishedAt } } }"
STOCK = '{ product(id: "1") { stock } }'
LATER = timedelta(hours=1)  # drain as if the backoff had passed


async def runs_of(factory: httpx.AsyncClient, craft_id: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = (await gql(factory, RUNS, {"id": craft_id}, as_=ADMIN))["data"]["craft"][
        "runs"
    ]
    return runs


async def stock(shop: httpx.AsyncClient) -> int:
    value: int = (await gql(shop, STOCK))["data"]["product"]["stock"]
    return value


async def driven(factory_app: Starlette) -> Resources:
    """The factory's resources, with the delivery worker's timer stopped: the test runs its rounds."""
    resources: Resources = factory_app.state.resources
    await resources.deliveries.poller.stop(grace=5)
    return resources


async def test_a_craft_every_second_delivers_its_count_each_run(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    await catalog(shop, stock=0)
    factory_id = await make_factory(factory)
    craft_id = await make_craft(factory, factory_id, count=3, interval=1)
    three = await poll(
        lambda: runs_of(factory, craft_id),
        lambda runs: sum(run["status"] == "DELIVERED" for run in runs) >= 3,
        within=10,
    )
    assert sum(run["status"] == "DELIVERED" for run in three) >= 3, three
    await gql(factory, f'mutation {{ pauseCraft(id: "{craft_id}") {{ id }} }}', as_=ADMIN)
    scheduler = factory_app.state.resources.scheduler
    assert not scheduler.is_scheduled(int(craft_id))  # paused: nothing fires any more
    runs = await poll(
        lambda: runs_of(factory, craft_id),
        lambda runs: all(run["status"] != "PENDING" for run in runs),
        within=10,
    )
    assert [run["status"] for run in runs] == ["DELIVERED"] * len(runs)
    slots = sorted(datetime.fromisoformat(run["scheduledAt"]) for run in runs)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(slots)]
    assert all(gap >= 1 and gap == int(gap) for gap in gaps), gaps  # every run on the craft's 1 s grid
    assert len({run["key"] for run in runs}) == len(runs)
    assert await stock(shop) == 3 * len(runs)


async def test_the_same_slot_fires_once(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient, router_link: Link
) -> None:
    await catalog(shop, stock=0)
    factory_id = await make_factory(factory)
    craft_id = await make_craft(factory, factory_id, count=2, interval=3600)
    resources = await driven(factory_app)
    await asyncio.gather(*(resources.scheduler.fire(int(craft_id)) for _ in range(5)))
    await resources.deliveries.drain()
    runs = await runs_of(factory, craft_id)
    assert [(run["status"], run["attempts"]) for run in runs] == [("DELIVERED", 1)]
    assert router_link.operations("deliverMany(") == 1
    assert await stock(shop) == 2


async def test_failed_deliveries_retry_until_delivered_once(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient, router_link: Link
) -> None:
    await catalog(shop, stock=0)
    factory_id = await make_factory(factory)
    craft_id = await make_craft(factory, factory_id, count=4, interval=3600)
    resources = await driven(factory_app)
    # First the router is down; then the shop applies the delivery but its answer is lost; then all is well.
    router_link.script = ["down", "lost"]
    await resources.scheduler.fire(int(craft_id))
    for _ in range(3):
        await resources.deliveries.drain(due_by=utcnow() + LATER)
    runs = await runs_of(factory, craft_id)
    assert [(run["status"], run["attempts"], run["error"]) for run in runs] == [("DELIVERED", 3, None)]
    assert router_link.operations("deliverMany(") == 3
    assert await stock(shop) == 4  # the lost answer's delivery was applied, and not again


async def test_permanent_failures_end_failed_with_the_error(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    await catalog(shop, stock=0)
    factory_id = await make_factory(factory)
    craft_id = await make_craft(factory, factory_id, count=4, interval=3600)
    resources = await driven(factory_app)

    def lose_product(session: Any) -> None:  # the product disappears behind the factory's back
        craft = session.get(Craft, int(craft_id))
        craft.product_id = 999
        session.add(craft)

    await resources.db.write(lose_product)
    await resources.scheduler.fire(int(craft_id))
    await resources.deliveries.drain()
    await resources.deliveries.drain(due_by=utcnow() + LATER)  # nothing left to retry
    runs = await runs_of(factory, craft_id)
    assert [(run["status"], run["attempts"]) for run in runs] == [("FAILED", 1)]
    assert "No such product" in runs[0]["error"]


async def test_pending_runs_left_by_a_crash_are_completed(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    await catalog(shop, stock=0)
    factory_id = await make_factory(factory)
    craft_id = await make_craft(factory, factory_id, count=6, interval=3600)
    resources = await driven(factory_app)
    # A fire whose process died before delivering left its PENDING run behind.
    written = await resources.db.write(record_fires, [(int(craft_id), utcnow() + LATER)])
    assert written == 1
    await resources.deliveries.drain()
    runs = await runs_of(factory, craft_id)
    assert [(run["status"], run["attempts"]) for run in runs] == [("DELIVERED", 1)]
    assert await stock(shop) == 6


async def test_finished_runs_past_the_retention_window_are_pruned(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    await catalog(shop, stock=0)
    factory_id = await make_factory(factory)
    craft_id = await make_craft(factory, factory_id, count=1, interval=3600)
    resources = await driven(factory_app)
    slots = [(int(craft_id), utcnow() + n * LATER) for n in (1, 2)]
    assert await resources.db.write(record_fires, slots) == 2
    await resources.deliveries.drain()
    assert await resources.db.write(record_fires, [(int(craft_id), utcnow() + 3 * LATER)]) == 1
    pruner = Pruner(
        "test-pruner", db=resources.db, prunes=[RUN_QUEUE.prune], retention=timedelta(0), interval=60
    )
    assert await pruner.prune() == 2  # the two DELIVERED runs; the PENDING one stays
    assert [run["status"] for run in await runs_of(factory, craft_id)] == ["PENDING"]
    assert await pruner.prune() == 0


async def test_a_delivery_is_retried_for_as_long_as_the_router_is_down(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient, router_link: Link
) -> None:
    await catalog(shop, stock=0)
    craft_id = await make_craft(factory, await make_factory(factory), count=2, interval=3600)
    resources = await driven(factory_app)
    router_link.down = True
    await resources.scheduler.fire(int(craft_id))
    for _ in range(12):  # longer than any attempt budget: a transient failure is never given up on
        await resources.deliveries.drain(due_by=utcnow() + LATER)
    [run] = await runs_of(factory, craft_id)
    assert (run["status"], run["attempts"]) == ("PENDING", 12)
    router_link.down = False
    await resources.deliveries.drain(due_by=utcnow() + LATER)
    [run] = await runs_of(factory, craft_id)
    assert (run["status"], run["attempts"], run["error"]) == ("DELIVERED", 13, None)
    assert await stock(shop) == 2
