"""Shop data built through the API, as an admin would."""

from dataclasses import dataclass
from typing import Any

import httpx

from subgraphs._common.auth import Role
from tests.support import gql, token

ADMIN = token(1000, Role.ADMIN)
BUY = "mutation($input: BuyInput!) { buy(input: $input) { id number total payment user { id } lines { quantity unitPrice total product { id stock } } } }"


def order(items: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    lines = [{"productId": product, "quantity": quantity} for product, quantity in items]
    return {"input": {"shopId": "1", "items": lines, "payment": "CARD", "purchaseName": "weekly", **extra}}


@dataclass
class Catalog:
    shop_id: str
    category_ids: list[str]
    product_ids: list[str]


async def catalog(shop: httpx.AsyncClient, *, stock: int = 10, name: str = "Corner") -> Catalog:
    """A shop with two categories and one product in each (prices 100 and 250)."""
    created = await gql(
        shop,
        f'mutation {{ createShop(input: {{name: "{name}", address: "1 Main St", phone: "555"}}) {{ id }} }}',
        as_=ADMIN,
    )
    shop_id = created["data"]["createShop"]["id"]
    categories, products = [], []
    for category, product, price in (("Dairy", "Milk", 100), ("Bakery", "Bread", 250)):
        category_id = (
            await gql(
                shop,
                f'mutation {{ createCategory(shopId: "{shop_id}", name: "{category}") {{ id }} }}',
                as_=ADMIN,
            )
        )["data"]["createCategory"]["id"]
        add = (
            f'mutation {{ addProduct(input: {{shopId: "{shop_id}", name: "{product}", price: {price}, '
            f'categoryId: "{category_id}", stock: {stock}}}) {{ id }} }}'
        )
        categories.append(category_id)
        products.append((await gql(shop, add, as_=ADMIN))["data"]["addProduct"]["id"])
    return Catalog(shop_id=shop_id, category_ids=categories, product_ids=products)
