"""The flagship query costs a constant number of SQL statements in each subgraph, whatever the purchases."""

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.purchase.fixtures import register
from tests.shop.fixtures import BUY, catalog, order
from tests.support import codes, count_statements, gql

# What the router sends each subgraph for the flagship query, MyPurchases (docs/api.md).
PURCHASE_PART = """{ me { login purchases(first: 50) { totalCount nodes {
  name payment total createdAt userCategory { name } check { __typename id } } } } }"""
SHOP_PART = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Check {
  number createdAt shop { name address } lines { quantity unitPrice product { name category { name } } } } } }"""


async def _cost(
    purchase_app: Starlette,
    shop_app: Starlette,
    purchase: httpx.AsyncClient,
    shop: httpx.AsyncClient,
    token: str,
) -> tuple[int, int, int]:
    with count_statements(purchase_app.state.db.engine) as purchase_sql:
        mine = await gql(purchase, PURCHASE_PART, as_=token)
    nodes: list[dict[str, Any]] = mine["data"]["me"]["purchases"]["nodes"]
    representations = [node["check"] for node in nodes]
    with count_statements(shop_app.state.db.engine) as shop_sql:  # not the relay's timer: another context
        checks = await gql(shop, SHOP_PART, {"r": representations}, as_=token)
    assert all(check["lines"] for check in checks["data"]["_entities"])
    return len(nodes), len(purchase_sql), len(shop_sql)


async def test_sql_statements_do_not_grow_with_purchases(
    purchase_app: Starlette,
    shop_app: Starlette,
    purchase: httpx.AsyncClient,
    shop: httpx.AsyncClient,
    record_property: Any,
) -> None:
    customer, _ = await register(purchase)
    await catalog(shop, stock=1000)
    await gql(shop, BUY, order([("1", 1), ("2", 1)]), as_=customer)
    one = await _cost(purchase_app, shop_app, purchase, shop, customer)
    for _ in range(49):
        await gql(shop, BUY, order([("1", 1), ("2", 2)]), as_=customer)
    fifty = await _cost(purchase_app, shop_app, purchase, shop, customer)
    record_property("sql_statements_1_purchase", one)
    record_property("sql_statements_50_purchases", fifty)
    assert one[0] == 1 and fifty[0] == 50
    assert one[1:] == fifty[1:], f"1 purchase: {one}, 50 purchases: {fifty}"
    # purchase: user, count, page; shop: checks, their lines with products and categories, shops.
    assert fifty[1:] == (3, 3)


@pytest.mark.parametrize("subgraph", ["purchase", "shop"])
async def test_entities_of_unknown_type_are_refused(
    subgraph: str, purchase: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    client = purchase if subgraph == "purchase" else shop
    for representation in ('{__typename: "Nope", id: "1"}', '{__typename: "Purchase"}', '"not an object"'):
        body = await gql(client, f"{{ _entities(representations: [{representation}]) {{ __typename }} }}")
        assert (codes(body), body["data"]) == (["BAD_USER_INPUT"], None), body
