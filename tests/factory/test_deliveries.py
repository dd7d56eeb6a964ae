"""Fires become PENDING runs keyed by craft and slot; deliveries are retried, idempotent and bounded.

Tests that drive the delivery worker themselves stop its timer first, then fire slots with the scheduler's
`advance` and run the worker's rounds with `drain`: what they assert is what one round, or three, did.
"""

from datetime import timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from subgraphs._common.db import utcnow
from subgraphs._common.retention import Pruner
from subgraphs.factory.models import Craft
from subgraphs.factory.runs import RUNS, record_fires
from tests.factory.fixtures import driven_craft, runs_of, stock
from tests.support import Link

LATER = timedelta(hours=1)  # drain as if the backoff had passed (and fire a 1 h craft's first slot)


async def test_the_same_slot_fires_once(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient, router_link: Link
) -> None:
    resources, craft_id, slot = await driven_craft(factory_app, factory, shop, count=2, interval=3600)
    assert resources.scheduler.advance(slot) == 1
    assert resources.scheduler.advance(slot) == 0  # fired already
    for _ in range(3):  # the same fire noted again (another process's, a job's): one run all the same
        resources.deliveries.fired(int(craft_id), slot)
    await resources.deliveries.drain()
    runs = await runs_of(factory, craft_id)
    assert [(run["status"], run["attempts"]) for run in runs] == [("DELIVERED", 1)]
    assert router_link.operations("deliverMany(") == 1
    assert await stock(shop) == 2


async def test_failed_deliveries_retry_until_delivered_once(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient, router_link: Link
) -> None:
    resources, craft_id, _ = await driven_craft(factory_app, factory, shop, count=4, interval=3600)
    # First the router is down; then the shop applies the delivery but its answer is lost; then all is well.
    router_link.script = ["down", "lost"]
    assert resources.scheduler.advance(utcnow() + LATER) == 1  # the craft's first slot
    for _ in range(3):
        await resources.deliveries.drain(due_by=utcnow() + LATER)
    runs = await runs_of(factory, craft_id)
    assert [(run["status"], run["attempts"], run["error"]) for run in runs] == [("DELIVERED", 3, None)]
    assert router_link.operations("deliverMany(") == 3
    assert await stock(shop) == 4  # the lost answer's delivery was applied, and not again


async def test_permanent_failures_end_failed_with_the_error(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    resources, craft_id, _ = await driven_craft(factory_app, factory, shop, count=4, interval=3600)

    def lose_product(session: Any) -> None:  # the product disappears behind the factory's back
        craft = session.get(Craft, int(craft_id))
        craft.product_id = 999
        session.add(craft)

    await resources.db.write(lose_product)
    assert resources.scheduler.advance(utcnow() + LATER) == 1  # the craft's first slot
    await resources.deliveries.drain()
    await resources.deliveries.drain(due_by=utcnow() + LATER)  # nothing left to retry
    runs = await runs_of(factory, craft_id)
    assert [(run["status"], run["attempts"]) for run in runs] == [("FAILED", 1)]
    assert "No such product" in runs[0]["error"]


async def test_pending_runs_left_by_a_crash_are_completed(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    resources, craft_id, _ = await driven_craft(factory_app, factory, shop, count=6, interval=3600)
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
    resources, craft_id, _ = await driven_craft(factory_app, factory, shop, count=1, interval=3600)
    slots = [(int(craft_id), utcnow() + n * LATER) for n in (1, 2)]
    assert await resources.db.write(record_fires, slots) == 2
    await resources.deliveries.drain()
    assert await resources.db.write(record_fires, [(int(craft_id), utcnow() + 3 * LATER)]) == 1
    pruner = Pruner("test-pruner", db=resources.db, prunes=[RUNS.prune], retention=timedelta(0), interval=60)
    assert await pruner.prune() == 2  # the two DELIVERED runs; the PENDING one stays
    assert [run["status"] for run in await runs_of(factory, craft_id)] == ["PENDING"]
    assert await pruner.prune() == 0


async def test_a_delivery_is_retried_for_as_long_as_the_router_is_down(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient, router_link: Link
) -> None:
    resources, craft_id, _ = await driven_craft(factory_app, factory, shop, count=2, interval=3600)
    router_link.down = True
    assert resources.scheduler.advance(utcnow() + LATER) == 1  # the craft's first slot
    for _ in range(12):  # longer than any attempt budget: a transient failure is never given up on
        await resources.deliveries.drain(due_by=utcnow() + LATER)
    [run] = await runs_of(factory, craft_id)
    assert (run["status"], run["attempts"]) == ("PENDING", 12)
    router_link.down = False
    await resources.deliveries.drain(due_by=utcnow() + LATER)
    [run] = await runs_of(factory, craft_id)
    assert (run["status"], run["attempts"], run["error"]) == ("DELIVERED", 13, None)
    assert await stock(shop) == 2
