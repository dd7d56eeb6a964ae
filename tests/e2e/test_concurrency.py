"""Many customers racing for the last units of one product, through the router."""

import asyncio

import pytest

from client.service_tree_client import GraphQLClientGraphQLMultiError
from tests.e2e.helpers import Router, buy, codes, create_catalog, poll, register, unsent_outbox_rows
from tools.stack import Stack

pytestmark = pytest.mark.e2e

STOCK = 20
BUYS = 50
CUSTOMERS = 5


async def test_fifty_concurrent_buys_of_twenty_units_sell_exactly_twenty(
    stack: Stack, router: Router, admin: str
) -> None:
    catalog = await create_catalog(router, admin, {"Toys": [("Limited figure", 1500, STOCK)]}, prefix="Race")
    product = catalog.products["Limited figure"]
    customers = [await register(router, f"racer{n}") for n in range(CUSTOMERS)]

    answers = await asyncio.gather(
        *(
            buy(
                router,
                customers[n % CUSTOMERS].token,
                catalog.shop_id,
                [(product.id, 1)],
                name=f"Race {n}",
                payment="CASH",
            )
            for n in range(BUYS)
        )
    )

    succeeded = [answer for answer in answers if not isinstance(answer, GraphQLClientGraphQLMultiError)]
    failed = [answer for answer in answers if isinstance(answer, GraphQLClientGraphQLMultiError)]
    assert len(succeeded) == STOCK
    assert len(failed) == BUYS - STOCK
    for refusal in failed:
        assert codes(refusal) == ["INSUFFICIENT_STOCK"], refusal
        [error] = refusal.errors
        assert error.extensions is not None
        assert error.extensions["productId"] == product.id
        assert error.extensions["available"] == 0
        assert refusal.data is None
    assert sorted(check.number for check in succeeded) == list(range(1, STOCK + 1))
    assert all(check.total == 1500 for check in succeeded)

    data = await router.data("query($id: ID!) { product(id: $id) { stock } }", {"id": product.id})
    assert data["product"]["stock"] == 0

    data = await router.data(
        "query($id: ID!) { shop(id: $id) { checks(first: 100) { totalCount nodes { id number total } } } }",
        {"id": catalog.shop_id},
        token=admin,
    )
    checks = data["shop"]["checks"]
    assert checks["totalCount"] == STOCK
    assert sorted(node["number"] for node in checks["nodes"]) == list(range(1, STOCK + 1))
    assert {node["id"] for node in checks["nodes"]} == {check.id for check in succeeded}

    async def purchases_per_customer() -> list[int]:
        counts = []
        for customer in customers:
            me = await router.data("{ me { purchases(first: 100) { totalCount } } }", token=customer.token)
            counts.append(me["me"]["purchases"]["totalCount"])
        return counts

    async def unsent() -> int:
        return unsent_outbox_rows(stack)

    # Once the shop has marked every purchase recorded, it sends no more: the counts below are final.
    assert await poll(unsent, lambda n: n == 0, within=15) == 0
    bought_by = [0] * CUSTOMERS  # each customer's successful buys: each recorded once, none twice
    for n, answer in enumerate(answers):
        bought_by[n % CUSTOMERS] += not isinstance(answer, GraphQLClientGraphQLMultiError)
    assert await purchases_per_customer() == bought_by
