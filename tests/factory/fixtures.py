"""Factory data built through the API, as an admin would."""

import httpx

from tests.shop.fixtures import ADMIN
from tests.support import gql

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
