"""Who may do what, through the router: customers stay out of each other's data and out of admin work."""

from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.helpers import Catalog, Customer, Router, bought, codes, create_catalog, register
from tests.forged import forged as forged_tokens
from tools.stack import Stack

pytestmark = pytest.mark.e2e

A_VIEW = """
{
  me {
    id login firstName secondName
    categories { id name }
    purchases { totalCount nodes { id name payment total userCategory { id name } check { id number total } } }
  }
}
"""


@dataclass
class World:
    catalog: Catalog
    a: Customer
    b: Customer
    a_check: str
    a_purchase: str
    a_category: str
    b_purchase: str


async def world(router: Router, admin: str) -> World:
    catalog = await create_catalog(router, admin, {"Garden": [("Shovel", 99000, 5)]}, prefix="Perm")
    shovel = catalog.products["Shovel"].id
    a, b = (
        await register(router, "alice", first_name="Alice"),
        await register(router, "bob", first_name="Bob"),
    )
    a_check = (await bought(router, a.token, catalog.shop_id, [(shovel, 1)], name="Alice's shovel")).id
    await bought(router, b.token, catalog.shop_id, [(shovel, 1)], name="Bob's shovel")
    a_category = (await router.data('mutation { createUserCategory(name: "Tools") { id } }', token=a.token))[
        "createUserCategory"
    ]["id"]
    a_purchase = (await router.data("{ me { purchases { nodes { id } } } }", token=a.token))["me"][
        "purchases"
    ]["nodes"][0]["id"]
    await router.data(
        "mutation($id: ID!, $c: ID) { updatePurchase(input: {id: $id, userCategoryId: $c}) { id } }",
        {"id": a_purchase, "c": a_category},
        token=a.token,
    )
    b_purchase = (await router.data("{ me { purchases { nodes { id } } } }", token=b.token))["me"][
        "purchases"
    ]["nodes"][0]["id"]
    return World(catalog, a, b, a_check, a_purchase, a_category, b_purchase)


def only_code(body: dict[str, Any], code: str) -> None:
    assert codes(body) == [code], body


async def test_a_customer_cannot_read_or_change_another_customers_data(router: Router, admin: str) -> None:
    w = await world(router, admin)
    a_before = await router.data(A_VIEW, token=w.a.token)
    assert a_before["me"]["purchases"]["totalCount"] == 1
    assert a_before["me"]["purchases"]["nodes"][0]["userCategory"] == {"id": w.a_category, "name": "Tools"}
    a, b = w.a, w.b

    # A sees A's purchase; B gets null entries for it and for unknown ids.
    mine = await router.data(
        "query($ids: [ID!]!) { purchases(ids: $ids) { id name } }",
        {"ids": [w.a_purchase, "999999"]},
        token=a.token,
    )
    assert mine["purchases"] == [{"id": w.a_purchase, "name": "Alice's shovel"}, None]
    theirs = await router.call(
        "query($ids: [ID!]!) { purchases(ids: $ids) { id name } }",
        {"ids": [w.a_purchase, "999999"]},
        token=b.token,
    )
    assert theirs["data"]["purchases"] == [None, None]

    # B may not change A's purchase or category, nor file B's own purchase under A's category.
    for document, variables in [
        (
            'mutation($id: ID!) { updatePurchase(input: {id: $id, name: "Mine now", payment: CASH}) { id } }',
            {"id": w.a_purchase},
        ),
        ("mutation($id: ID!) { deletePurchase(id: $id) }", {"id": w.a_purchase}),
        (
            "mutation($id: ID!, $c: ID) { updatePurchase(input: {id: $id, userCategoryId: $c}) { id } }",
            {"id": w.b_purchase, "c": w.a_category},
        ),
        (
            'mutation($id: ID!) { renameUserCategory(id: $id, name: "Stolen") { id name } }',
            {"id": w.a_category},
        ),
        ("mutation($id: ID!) { deleteUserCategory(id: $id) }", {"id": w.a_category}),
    ]:
        only_code(await router.call(document, variables, token=b.token), "FORBIDDEN")

    body = await router.call(
        "query($id: ID!) { check(id: $id) { id total } }", {"id": w.a_check}, token=b.token
    )
    only_code(body, "FORBIDDEN")
    assert (body.get("data") or {}).get("check") is None
    body = await router.call(
        "query($ids: [ID!]!) { checks(ids: $ids) { id } }", {"ids": [w.a_check]}, token=b.token
    )
    assert body["data"]["checks"] == [None]

    body = await router.call("query($id: ID!) { user(id: $id) { id login } }", {"id": a.id}, token=b.token)
    only_code(body, "FORBIDDEN")
    assert (body.get("data") or {}).get("user") is None

    # The same reads work for their owner and for an ADMIN.
    own_check = await router.data(
        "query($id: ID!) { check(id: $id) { id total } }", {"id": w.a_check}, token=a.token
    )
    assert own_check["check"] == {"id": w.a_check, "total": 99000}
    as_admin = await router.data(
        "query($id: ID!, $c: ID!) { user(id: $id) { login } check(id: $c) { id } }",
        {"id": a.id, "c": w.a_check},
        token=admin,
    )
    assert as_admin == {"user": {"login": a.login}, "check": {"id": w.a_check}}

    # Nothing of A's changed.
    assert await router.data(A_VIEW, token=a.token) == a_before
    stock = await router.data(
        "query($id: ID!) { product(id: $id) { stock } }", {"id": w.catalog.products["Shovel"].id}
    )
    assert stock["product"]["stock"] == 3


async def test_a_customer_cannot_do_admin_work(router: Router, admin: str) -> None:
    catalog = await create_catalog(router, admin, {"Hardware": [("Hammer", 50000, 4)]}, prefix="PermAdmin")
    hammer = catalog.products["Hammer"].id
    customer = await register(router, "notadmin")
    attempts: list[tuple[str, dict[str, Any]]] = [
        ('mutation { createShop(input: {name: "Mine", address: "Here", phone: "1"}) { id } }', {}),
        (
            'mutation($id: ID!) { updateShop(input: {id: $id, name: "Taken over"}) { id } }',
            {"id": catalog.shop_id},
        ),
        ('mutation($id: ID!) { createCategory(shopId: $id, name: "Mine") { id } }', {"id": catalog.shop_id}),
        (
            'mutation($id: ID!) { addProduct(input: {shopId: $id, name: "Free", price: 0, stock: 10}) { id } }',
            {"id": catalog.shop_id},
        ),
        ("mutation($id: ID!) { updateProduct(input: {id: $id, price: 1}) { id } }", {"id": hammer}),
        (
            'mutation($id: ID!) { deliver(input: {productId: $id, count: 100, key: "mine"}) { id } }',
            {"id": hammer},
        ),
        ("query($id: ID!) { shop(id: $id) { checks { totalCount } } }", {"id": catalog.shop_id}),
    ]
    for query, variables in attempts:
        only_code(await router.call(query, variables, token=customer.token), "FORBIDDEN")

    shop = await router.data(
        "query($id: ID!) { shop(id: $id) { name categories { name } products { nodes { name price stock } } } }",
        {"id": catalog.shop_id},
    )
    assert shop["shop"] == {
        "name": catalog.name,
        "categories": [{"name": "Hardware"}],
        "products": {"nodes": [{"name": "Hammer", "price": 50000, "stock": 4}]},
    }
    shops = await router.data("{ shops(first: 100) { nodes { name } } }")
    assert "Mine" not in {node["name"] for node in shops["shops"]["nodes"]}


RECORD = """
mutation {
  recordPurchase(input: {checkId: "424242", userId: "1", name: "Free stuff", payment: CASH, total: 1}) { id }
}
"""


async def test_record_purchase_is_not_in_the_public_graph(stack: Stack, router: Router, admin: str) -> None:
    customer = await register(router, "recorder")
    for bearer in (customer.token, admin, None):
        response = await router.post(RECORD, token=bearer)
        assert response.status_code == 400, response.text
        assert codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"], response.text
        assert "data" not in response.json() or response.json()["data"] is None

    # Straight at the purchase subgraph it exists, but only for a SERVICE token.
    direct = Router(router.client, stack.subgraph_url("purchase"))
    for bearer in (customer.token, admin):
        only_code(await direct.call(RECORD, token=bearer), "FORBIDDEN")
    assert (await router.data("{ me { purchases { totalCount } } }", token=customer.token))["me"][
        "purchases"
    ]["totalCount"] == 0


async def test_anonymous_and_forged_callers(router: Router, admin: str) -> None:
    catalog = await create_catalog(router, admin, {"Misc": [("Pen", 1000, 3)]}, prefix="PermAnon")
    pen = catalog.products["Pen"].id
    victim = await register(router, "victim")

    assert await router.call("{ me { id login } }") == {"data": {"me": None}}
    body = await router.call(
        "mutation($shop: ID!, $p: ID!) { buy(input: {shopId: $shop, items: [{productId: $p, quantity: 1}], "
        'payment: CASH, purchaseName: "Free"}) { id } }',
        {"shop": catalog.shop_id, "p": pen},
    )
    only_code(body, "UNAUTHENTICATED")
    assert body.get("data") is None

    # A token for the victim signed with another key under the real kid is refused, even where no token is
    # needed (every other forgery: tests/e2e/test_identity.py).
    forged = forged_tokens(subject=victim.id, as_admin=True)["another key under a known kid"]
    forged_buy = (
        "mutation($shop: ID!, $p: ID!) { buy(input: {shopId: $shop, items: [{productId: $p, quantity: 1}], "
        'payment: CASH, purchaseName: "Forged"}) { id } }'
    )
    for query, variables in (
        ("{ me { id } }", {}),
        ("{ shops { totalCount } }", {}),
        ("{ __typename }", {}),  # answered by the router alone
        ("query($id: ID!) { user(id: $id) { login } }", {"id": victim.id}),
        (forged_buy, {"shop": catalog.shop_id, "p": pen}),
    ):
        refused = await router.post(query, variables, token=forged)
        assert refused.status_code == 401, refused.text
        only_code(refused.json(), "UNAUTHENTICATED")
    stock = await router.data("query($id: ID!) { product(id: $id) { stock } }", {"id": pen})
    assert stock["product"]["stock"] == 3
    assert (await router.data("{ me { purchases { totalCount } } }", token=victim.token))["me"]["purchases"][
        "totalCount"
    ] == 0


async def test_login_failures_do_not_tell_which_part_was_wrong(router: Router) -> None:
    customer = await register(router, "secretive")
    query = "mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token } }"
    wrong_password = await router.call(query, {"l": customer.login, "p": "wrong-password-123"})
    unknown_login = await router.call(query, {"l": "nobody_" + customer.login, "p": "wrong-password-123"})
    for body in (wrong_password, unknown_login):
        only_code(body, "UNAUTHENTICATED")
        assert body.get("data") is None
    assert wrong_password["errors"][0]["message"] == unknown_login["errors"][0]["message"]
    assert wrong_password["errors"][0]["message"].strip()
    good = await router.data(query, {"l": customer.login, "p": customer.password})
    assert good["login"]["token"]
