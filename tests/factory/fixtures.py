"""Factory data built through the API, as an admin would, and the factory's workers driven by the test."""

from datetime import datetime
from typing import Any

import httpx
from starlette.applications import Starlette

from subgraphs.factory.context import Resources
from tests.shop.fixtures import ADMIN, catalog
from tests.support import gql

RUNS = "query($id: ID!) { craft(id: $id) { runs(last: 50) { key status attempts error scheduledAt finishedAt } } }"
STOCK = '{ product(id: "1") { stock } }'
CREATE_CRAFT = "mutation($input: CreateCraftInput!) { createCraft(input: $input) { id countPerRun intervalSeconds active nextRunAt factory { name } product { id } } }"


async def make_factory(factory: httpx.AsyncClient, name: str = "Works") -> str:
    body = await gql(
        factory, f'mutation {{ createFactory(name: "{name}") {{ id name createdAt }} }}', as_=ADMIN
    )
    factory_id: str = body["data"]["createFactory"]["id"]
    return factory_id


async def make_craft(factory: httpx.AsyncClient, factory_id: str, **craft: object) -> str:
    """A craft made through the API (see `craft_input` for the keywords); its id."""
    body = await gql(factory, CREATE_CRAFT, craft_input(factory_id, **craft), as_=ADMIN)  # type: ignore[arg-type]
    craft_id: str = body["data"]["createCraft"]["id"]
    return craft_id


def craft_input(
    factory_id: str, product_id: str = "1", count: int = 5, interval: int = 3600, active: bool = True
) -> dict[str, object]:
    return {
        "input": {
            "factoryId": factory_id,
            "productId": product_id,
            "countPerRun": count,
            "intervalSeconds": interval,
            "active": active,
        }
    }


async def next_run(factory: httpx.AsyncClient, craft_id: str) -> str:
    """The craft's nextRunAt (null while paused)."""
    body = await gql(factory, "query($id: ID!) { craft(id: $id) { nextRunAt } }", {"id": craft_id}, as_=ADMIN)
    value: str = body["data"]["craft"]["nextRunAt"]
    return value


async def runs_of(factory: httpx.AsyncClient, craft_id: str) -> list[dict[str, Any]]:
    """The craft's newest 50 runs, newest first."""
    runs: list[dict[str, Any]] = (await gql(factory, RUNS, {"id": craft_id}, as_=ADMIN))["data"]["craft"][
        "runs"
    ]
    return runs


async def stock(shop: httpx.AsyncClient) -> int:
    """Product 1's stock."""
    value: int = (await gql(shop, STOCK))["data"]["product"]["stock"]
    return value


async def driven(factory_app: Starlette) -> Resources:
    """The factory's resources, with the delivery worker's timer stopped: the test runs its rounds."""
    resources: Resources = factory_app.state.resources
    await resources.deliveries.poller.stop(grace=5)
    return resources


async def driven_craft(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient, *, count: int, interval: int
) -> tuple[Resources, str, datetime]:
    """A shop's product 1 at stock 0 and a craft of it, with the delivery worker driven by the test: the
    factory's resources, the craft's id and its first slot."""
    await catalog(shop, stock=0)
    craft_id = await make_craft(factory, await make_factory(factory), count=count, interval=interval)
    resources = await driven(factory_app)
    return resources, craft_id, datetime.fromisoformat(await next_run(factory, craft_id))
