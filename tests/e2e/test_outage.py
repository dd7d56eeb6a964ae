"""Buying while the purchase subgraph is down: the sale stands and the purchase is recorded once it is back."""

import signal

import pytest

from tests.e2e.helpers import Router, bought, create_product, poll, register, unsent_outbox_rows
from tools.stack import Stack

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
async def test_buy_while_purchase_is_down_is_recorded_once_it_is_back(
    stack: Stack, router: Router, admin: str, sig: signal.Signals
) -> None:
    """Each stops the purchase subgraph of the module's stack, and starts it again."""
    product = await create_product(router, admin, "Tea", ("Green tea", 30000, 10), prefix="Outage")
    customer = await register(router, "outage")

    stack.stop("purchase", sig=sig)
    assert not stack.processes["purchase"].alive()

    check = await bought(router, customer.token, product.shop_id, [(product.id, 3)], name="Tea while down")
    assert check.number == 1
    assert check.total == 90000
    stock = await router.data("query($id: ID!) { product(id: $id) { stock } }", {"id": product.id})
    assert stock["product"]["stock"] == 7

    # `me` lives in the purchase subgraph: it cannot be answered now, and no purchase may be made up.
    body = await router.call("{ me { purchases { totalCount } } }", token=customer.token)
    assert body.get("errors"), body
    assert (body.get("data") or {}).get("me") is None

    stack.start("purchase")

    async def _unsent() -> int:
        return unsent_outbox_rows(stack)

    async def purchases() -> dict[str, object]:
        data = await router.data(
            "{ me { purchases { totalCount nodes { name total check { id number } } } } }",
            token=customer.token,
        )
        found: dict[str, object] = data["me"]["purchases"]
        return found

    found = await poll(purchases, lambda page: page["totalCount"] != 0, within=15, interval=0.25)
    assert found["totalCount"] == 1, found
    # Once the shop has marked it recorded, it sends it no more: what the API says now is final.
    assert await poll(_unsent, lambda n: n == 0, within=15) == 0
    found = await purchases()
    assert found == {
        "totalCount": 1,
        "nodes": [{"name": "Tea while down", "total": 90000, "check": {"id": check.id, "number": 1}}],
    }
