"""The flagship journey through the router: register, log in, buy, and read it all back in one request."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.helpers import (
    Catalog,
    Customer,
    Router,
    bought,
    create_catalog,
    graphql_posts,
    login,
    poll,
    register,
    unsent_outbox_rows,
)
from tools.stack import Stack

pytestmark = pytest.mark.e2e

MY_PURCHASES = """
query MyPurchases {
  me {
    login
    purchases(first: 50) {
      totalCount
      nodes {
        name payment total createdAt
        userCategory { name }
        check { number createdAt shop { name address } lines { quantity unitPrice product { name category { name } } } }
      }
    }
  }
}
"""

MILK, BREAD = "Milk 1 l", "Rye bread"


async def groceries(router: Router, admin: str) -> Catalog:
    return await create_catalog(
        router, admin, {"Dairy": [(MILK, 8900, 1000)], "Bakery": [(BREAD, 5500, 1000)]}, prefix="Flagship"
    )


def instant(value: str | datetime) -> datetime:
    """An ISO-8601 DateTime of the API (or as the typed client parsed it), which must carry its UTC offset."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    assert parsed.utcoffset() == UTC.utcoffset(None), value
    return parsed


async def test_register_login_buy_then_the_flagship_query_returns_the_purchase(
    router: Router, admin: str
) -> None:
    catalog = await groceries(router, admin)
    registered = await register(router, "flagship")
    session = await login(router, registered.login, registered.password)
    assert session.user.id == registered.id
    token = session.token
    milk, bread = catalog.products[MILK], catalog.products[BREAD]

    check = await bought(
        router, token, catalog.shop_id, [(milk.id, 2), (bread.id, 1)], name="Weekly groceries", payment="CARD"
    )
    assert check.number == 1
    assert check.total == 2 * 8900 + 5500
    assert check.shop.id == catalog.shop_id

    body = await router.call(MY_PURCHASES, token=token)
    assert "errors" not in body, body
    me = body["data"]["me"]
    assert me["login"] == registered.login
    assert me["purchases"]["totalCount"] == 1
    [purchase] = me["purchases"]["nodes"]
    assert purchase["name"] == "Weekly groceries"
    assert purchase["payment"] == "CARD"
    assert purchase["total"] == 23300
    assert purchase["userCategory"] is None
    assert instant(purchase["createdAt"]) == instant(check.created_at)
    got = purchase["check"]
    assert got["number"] == 1
    assert instant(got["createdAt"]) == instant(check.created_at)
    assert got["shop"] == {"name": catalog.name, "address": catalog.address}
    assert sorted(got["lines"], key=lambda line: line["product"]["name"]) == [
        {"quantity": 2, "unitPrice": 8900, "product": {"name": MILK, "category": {"name": "Dairy"}}},
        {"quantity": 1, "unitPrice": 5500, "product": {"name": BREAD, "category": {"name": "Bakery"}}},
    ]

    # A category of the customer's own shows up in the same query.
    category = (await router.data('mutation { createUserCategory(name: "Food") { id name } }', token=token))[
        "createUserCategory"
    ]
    purchase_id = (await router.data("{ me { purchases { nodes { id } } } }", token=token))["me"][
        "purchases"
    ]["nodes"][0]["id"]
    await router.data(
        "mutation($id: ID!, $c: ID) { updatePurchase(input: {id: $id, userCategoryId: $c}) { id } }",
        {"id": purchase_id, "c": category["id"]},
        token=token,
    )
    again = (await router.data(MY_PURCHASES, token=token))["me"]["purchases"]["nodes"][0]
    assert again["userCategory"] == {"name": "Food"}
    assert again["check"] == got


async def test_check_purchase_resolves_three_levels_deep(router: Router, admin: str) -> None:
    catalog = await groceries(router, admin)
    customer = await register(router, "threelevel")
    check = await bought(
        router, customer.token, catalog.shop_id, [(catalog.products[BREAD].id, 3)], name="Bread"
    )
    data = await router.data(
        "{ me { purchases { nodes { id name check { id purchase { id name } } } } } }", token=customer.token
    )
    [node] = data["me"]["purchases"]["nodes"]
    assert node["check"]["id"] == check.id
    assert node["check"]["purchase"] == {"id": node["id"], "name": "Bread"}


async def _flagship_fetches(
    stack: Stack, router: Router, customer: Customer
) -> tuple[dict[str, Any], dict[str, int]]:
    """Run the flagship query once; its body and how many /graphql requests each subgraph received meanwhile."""
    before = {name: graphql_posts(stack, name) for name in ("purchase", "shop")}
    body = await router.call(MY_PURCHASES, token=customer.token)
    # uvicorn writes a request's access line as its response starts: before the router can answer us.
    after = {name: graphql_posts(stack, name) for name in ("purchase", "shop")}
    return body, {name: after[name] - before[name] for name in before}


async def _unsent_outbox_rows(stack: Stack) -> int:
    return unsent_outbox_rows(stack)


async def test_flagship_query_costs_one_fetch_per_subgraph_for_1_and_50_purchases(
    stack: Stack, router: Router, admin: str, request: pytest.FixtureRequest
) -> None:
    # Kept with the test's report (junit XML properties); `record_property` would warn under xunit2.
    record = request.node.user_properties.append
    catalog = await groceries(router, admin)
    customer = await register(router, "fetches")
    milk, bread = catalog.products[MILK], catalog.products[BREAD]

    async def total() -> int:
        data = await router.data("{ me { purchases { totalCount } } }", token=customer.token)
        count: int = data["me"]["purchases"]["totalCount"]
        return count

    await bought(router, customer.token, catalog.shop_id, [(milk.id, 1), (bread.id, 1)], name="Purchase 1")
    assert await poll(total, lambda n: n == 1, within=5) == 1
    assert await poll(lambda: _unsent_outbox_rows(stack), lambda n: n == 0, within=30) == 0
    body, fetches_1 = await _flagship_fetches(stack, router, customer)
    record(("subgraph_fetches_1_purchase", fetches_1))
    assert "errors" not in body, body
    assert body["data"]["me"]["purchases"]["totalCount"] == 1
    assert len(body["data"]["me"]["purchases"]["nodes"]) == 1

    for start in range(2, 51, 7):
        await asyncio.gather(
            *(
                bought(
                    router,
                    customer.token,
                    catalog.shop_id,
                    [(milk.id, 1), (bread.id, 2)],
                    name=f"Purchase {n}",
                )
                for n in range(start, min(start + 7, 51))
            )
        )
    assert await poll(total, lambda n: n == 50, within=10) == 50
    # Once every purchase is recorded, the shop sends nothing more to purchase: only the flagship query's
    # fetches are counted below.
    assert await poll(lambda: _unsent_outbox_rows(stack), lambda n: n == 0, within=30) == 0
    body, fetches_50 = await _flagship_fetches(stack, router, customer)
    record(("subgraph_fetches_50_purchases", fetches_50))
    assert "errors" not in body, body
    purchases = body["data"]["me"]["purchases"]
    assert purchases["totalCount"] == 50
    assert len(purchases["nodes"]) == 50
    assert sorted(node["check"]["number"] for node in purchases["nodes"]) == list(range(1, 51))
    assert {node["name"] for node in purchases["nodes"]} == {f"Purchase {n}" for n in range(1, 51)}
    for node in purchases["nodes"]:
        assert node["check"]["shop"] == {"name": catalog.name, "address": catalog.address}
        quantities = {line["product"]["name"]: line["quantity"] for line in node["check"]["lines"]}
        assert quantities == ({MILK: 1, BREAD: 1} if node["name"] == "Purchase 1" else {MILK: 1, BREAD: 2})
    created = [instant(node["createdAt"]) for node in purchases["nodes"]]
    assert created == sorted(created, reverse=True)  # newest first

    assert fetches_1 == {"purchase": 1, "shop": 1}
    assert fetches_50 == {"purchase": 1, "shop": 1}
