"""Fires become PENDING runs keyed by craft and slot; deliveries are retried, idempotent and bounded."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from subgraphs._common.db import utcnow
from tests.factory.test_factories import make_craft, make_factory
from tests.shop.fixtures import ADMIN, catalog
from tests.support import gql

RUNS = "query($id: ID!) { craft(id: $id) { runs(last: 50) { key status attempts error scheduledAt finishedAt } } }"
STOCK = '{ product(id: "1") { stock } }'


async def runs_of(factory: httpx.AsyncClient, craft_id: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = (await gql(factory, RUNS, {"id": craft_id}, as_=ADMIN))["data"]["craft"][
        "runs"
    ]
    return runs


async def stock(shop: httpx.AsyncClient) -> int:
    value: int = (await gql(shop, STOCK))["data"]["product"]["stock"]
    return value


async def settle(factory: httpx.AsyncClient, craft_id: str) -> list[dict[str, Any]]:
    for _ in range(100):
        runs = await runs_of(factory, craft_id)
        if runs and all(run["status"] != "PENDING" for run in runs):
            return runs
        await asyncio.sleep(0.05)
    return await runs_of(factory, craft_id)


async def test_a_craft_every_second_delivers_its_count_each_run(
    factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    await catalog(shop, stock=0)
    factory_id = await make_factory(factory)
    craft_id = await make_craft(factory, factory_id, count=3, interval=1)
    await asyncio.sleep(3.4)
    await gql(factory, f'mutation {{ pauseCraft(id: "{craft_id}") {{ id }} }}', as_=ADMIN)
    runs = await settle(factory, craft_id)
    delivered = [run for run in runs if run["status"] == "DELIVERED"]
    assert len(delivered) == len(runs) == 3
    assert len({run["key"] for run in runs}) == 3
    assert await stock(shop) == 3 * len(delivered)
    await asyncio.sleep(1.2)  # paused: nothing more fires
    assert len(await runs_of(factory, craft_id)) == 3


async def test_the_same_slot_fires_once(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    await catalog(shop, stock=0)
    factory_id = await make_factory(factory)
    craft_id = await make_craft(factory, factory_id, count=2, interval=3600)
    scheduler = factory_app.state.scheduler
    await asyncio.gather(*(scheduler.fire(int(craft_id)) for _ in range(5)))
    runs = await settle(factory, craft_id)
    assert [run["status"] for run in runs] == ["DELIVERED"]
    assert await stock(shop) == 2


async def test_failed_deliveries_retry_until_delivered_once(
    factory_app: Starlette,
    factory: httpx.AsyncClient,
    shop: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await catalog(shop, stock=0)
    factory_id = await make_factory(factory)
    craft_id = await make_craft(factory, factory_id, count=4, interval=3600)
    http = factory_app.state.shop._http
    real_post = http.post
    outcomes = ["down", "lost"]  # first the router is down; then the shop applies it but the answer is lost

    async def flaky_post(*args: Any, **kwargs: Any) -> httpx.Response:
        outcome = outcomes.pop(0) if outcomes and "deliver" in str(kwargs.get("json")) else None
        if outcome == "down":
            raise httpx.ConnectError("router down")
        response: httpx.Response = await real_post(*args, **kwargs)
        if outcome == "lost":
            raise httpx.ReadTimeout("answer lost")
        return response

    monkeypatch.setattr(http, "post", flaky_post)
    await factory_app.state.scheduler.fire(int(craft_id))
    runs = await settle(factory, craft_id)
    assert [(run["status"], run["attempts"]) for run in runs] == [("DELIVERED", 3)]
    assert await stock(shop) == 4


async def test_permanent_failures_end_failed_with_the_error(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    await catalog(shop, stock=0)
    factory_id = await make_factory(factory)
    craft_id = await make_craft(factory, factory_id, count=4, interval=3600)
    # The product disappears behind the factory's back (another shop's id space): the shop answers NOT_FOUND.
    async with factory_app.state.db.write() as session:
        from subgraphs.factory.models import Craft

        craft = await session.get(Craft, int(craft_id))
        assert craft is not None
        craft.product_id = 999
        session.add(craft)
    await factory_app.state.scheduler.fire(int(craft_id))
    runs = await settle(factory, craft_id)
    assert runs[0]["status"] == "FAILED" and runs[0]["attempts"] == 1
    assert "No such product" in runs[0]["error"]


async def test_pending_runs_left_by_a_crash_are_completed(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    await catalog(shop, stock=0)
    factory_id = await make_factory(factory)
    craft_id = await make_craft(factory, factory_id, count=6, interval=3600)
    from subgraphs.factory import services

    async with factory_app.state.db.write() as session:  # a fire whose process died before delivering
        written = await services.record_fires(session, [(int(craft_id), utcnow() + timedelta(hours=1))])
    assert len(written) == 1
    runs = await settle(factory, craft_id)
    assert [run["status"] for run in runs] == ["DELIVERED"]
    assert await stock(shop) == 6
