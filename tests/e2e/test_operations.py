"""Every operation of the API (docs/api.md) answers through the router, with the values the contract describes."""

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.helpers import PASSWORD, Router, bought, codes, create_catalog, login, register, unique

pytestmark = pytest.mark.e2e

PRODUCT = "id name description price stock category { id name } shop { id name }"


async def test_catalog_operations(router: Router, admin: str) -> None:
    # createShop, updateShop, shop
    name = unique("Greengrocer")
    shop = await router.field(
        "mutation($i: CreateShopInput!) { createShop(input: $i) { id name address phone categories { id } } }",
        {"i": {"name": name, "address": "5 Arbat", "phone": "+7 900"}},
        token=admin,
    )
    assert shop == {"id": shop["id"], "name": name, "address": "5 Arbat", "phone": "+7 900", "categories": []}
    sid = shop["id"]
    renamed = unique("Greengrocer")
    updated = await router.field(
        "mutation($i: UpdateShopInput!) { updateShop(input: $i) { id name address phone } }",
        {"i": {"id": sid, "name": renamed, "phone": "+7 901"}},
        token=admin,
    )
    assert updated == {"id": sid, "name": renamed, "address": "5 Arbat", "phone": "+7 901"}

    # createCategory, addProduct (stock and description default), updateProduct
    fruit = await router.field(
        'mutation($s: ID!) { createCategory(shopId: $s, name: "Fruit") { id name shop { id name } } }',
        {"s": sid},
        token=admin,
    )
    assert fruit["name"] == "Fruit" and fruit["shop"] == {"id": sid, "name": renamed}
    veg = await router.field(
        'mutation($s: ID!) { createCategory(shopId: $s, name: "Veg") { id } }', {"s": sid}, token=admin
    )

    async def add(product: dict[str, Any]) -> dict[str, Any]:
        query = f"mutation($i: AddProductInput!) {{ addProduct(input: $i) {{ {PRODUCT} }} }}"
        added: dict[str, Any] = await router.field(query, {"i": {"shopId": sid, **product}}, token=admin)
        return added

    red = await add({"name": "Red Apple", "price": 100, "categoryId": fruit["id"], "stock": 5})
    green = await add({"name": "green apple", "price": 90, "categoryId": fruit["id"], "stock": 7})
    carrot = await add({"name": "Carrot", "price": 40, "categoryId": veg["id"], "description": "Orange"})
    pine = await add({"name": "Pineapple", "price": 500})
    assert carrot["stock"] == 0 and carrot["description"] == "Orange"
    assert pine == {
        "id": pine["id"],
        "name": "Pineapple",
        "description": "",
        "price": 500,
        "stock": 0,
        "category": None,
        "shop": {"id": sid, "name": renamed},
    }
    changed = await router.field(
        f"mutation($i: UpdateProductInput!) {{ updateProduct(input: $i) {{ {PRODUCT} }} }}",
        {"i": {"id": pine["id"], "price": 450, "description": "Sweet", "categoryId": fruit["id"]}},
        token=admin,
    )
    assert (changed["name"], changed["price"], changed["description"], changed["stock"]) == (
        "Pineapple",
        450,
        "Sweet",
        0,
    )
    assert changed["category"] == {"id": fruit["id"], "name": "Fruit"}

    # product, shop (with categories and products), unknown ids give null
    got = await router.data(
        f"query($p: ID!, $s: ID!) {{ product(id: $p) {{ {PRODUCT} }} shop(id: $s) {{ name categories {{ name }} "
        "products(first: 100) { totalCount nodes { name } } veg: products(categoryIds: [$v]) { nodes { name } } } "
        'none: product(id: "999999") { id } noshop: shop(id: "999999") { id } }'.replace("$v", veg["id"]),
        {"p": pine["id"], "s": sid},
    )
    assert got["product"] == changed
    assert got["shop"]["categories"] == [{"name": "Fruit"}, {"name": "Veg"}]
    assert got["shop"]["products"]["totalCount"] == 4
    assert [n["name"] for n in got["shop"]["products"]["nodes"]] == [
        "Red Apple",
        "green apple",
        "Carrot",
        "Pineapple",
    ]
    assert got["shop"]["veg"] == {"nodes": [{"name": "Carrot"}]}
    assert got["none"] is None and got["noshop"] is None

    # shops
    shops = await router.field(
        "{ shops(first: 100) { totalCount nodes { id name } pageInfo { hasNextPage } } }"
    )
    assert {"id": sid, "name": renamed} in shops["nodes"]
    assert shops["totalCount"] == len(shops["nodes"]) and not shops["pageInfo"]["hasNextPage"]

    # products with filters, paginated
    page_query = "query($s: [ID!], $c: [ID!], $ids: [ID!], $after: String) { products(shopIds: $s, categoryIds: $c, ids: $ids, first: 2, after: $after) { totalCount nodes { name } pageInfo { hasNextPage endCursor } } }"
    first = await router.field(page_query, {"s": [sid]})
    assert first["totalCount"] == 4 and [n["name"] for n in first["nodes"]] == ["Red Apple", "green apple"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = await router.field(page_query, {"s": [sid], "after": first["pageInfo"]["endCursor"]})
    assert [n["name"] for n in second["nodes"]] == ["Carrot", "Pineapple"] and second["pageInfo"][
        "hasNextPage"
    ] is False
    by_category = await router.field(page_query, {"s": [sid], "c": [veg["id"]]})
    assert by_category["totalCount"] == 1 and by_category["nodes"] == [{"name": "Carrot"}]
    by_ids = await router.field(
        page_query, {"ids": [carrot["id"], red["id"], green["id"]], "c": [fruit["id"]]}
    )
    assert by_ids["totalCount"] == 2 and {n["name"] for n in by_ids["nodes"]} == {"Red Apple", "green apple"}

    # searchProducts: case-insensitive substring, optional filters
    search = "query($q: String!, $s: [ID!], $c: [ID!]) { searchProducts(query: $q, shopIds: $s, categoryIds: $c) { name } }"
    found = await router.field(search, {"q": "APPLE", "s": [sid]})
    assert sorted(p["name"] for p in found) == ["Pineapple", "Red Apple", "green apple"]
    found = await router.field(search, {"q": "apple", "s": [sid], "c": [fruit["id"]]})
    assert sorted(p["name"] for p in found) == ["Pineapple", "Red Apple", "green apple"]
    found = await router.field(search, {"q": "rro", "c": [veg["id"]]})
    assert found == [{"name": "Carrot"}]
    assert (await router.field(search, {"q": "apple", "c": [veg["id"]]})) == []

    # deliver: the same key twice gives the same delivery and adds stock once
    deliver = (
        "mutation($i: DeliverInput!) { deliver(input: $i) { id key count deliveredAt product { id stock } } }"
    )
    key = unique("delivery")
    once = await router.field(
        deliver, {"i": {"productId": carrot["id"], "count": 30, "key": key}}, token=admin
    )
    assert (once["key"], once["count"], once["product"]) == (key, 30, {"id": carrot["id"], "stock": 30})
    twice = await router.field(
        deliver, {"i": {"productId": carrot["id"], "count": 30, "key": key}}, token=admin
    )
    assert twice["id"] == once["id"] and twice["deliveredAt"] == once["deliveredAt"]
    stock = await router.data("query($p: ID!) { product(id: $p) { stock } }", {"p": carrot["id"]})
    assert stock["product"]["stock"] == 30
    other = await router.field(
        deliver, {"i": {"productId": carrot["id"], "count": 5, "key": unique("delivery")}}, token=admin
    )
    assert other["id"] != once["id"] and other["product"]["stock"] == 35


async def test_account_and_purchase_operations(router: Router, admin: str) -> None:
    catalog = await create_catalog(
        router, admin, {"Books": [("Novel", 70000, 10)], "Games": [("Chess", 150000, 3)]}, prefix="Ops"
    )
    novel, chess = catalog.products["Novel"].id, catalog.products["Chess"].id

    # register, login, me, updateMe, user
    customer = await register(router, "ops", first_name="Olga")
    session = await login(router, customer.login, PASSWORD)
    token = session.token
    assert session.user.id == customer.id
    me = await router.field(
        "{ me { id login firstName secondName role registeredAt categories { id } } }", token=token
    )
    assert (me["id"], me["login"], me["firstName"], me["secondName"], me["role"]) == (
        customer.id,
        customer.login,
        "Olga",
        "Petrov",
        "CUSTOMER",
    )
    assert abs((datetime.now(UTC) - datetime.fromisoformat(me["registeredAt"])).total_seconds()) < 120
    assert me["categories"] == []
    updated = await router.field(
        'mutation { updateMe(input: {firstName: "Olya"}) { firstName secondName } }', token=token
    )
    assert updated == {"firstName": "Olya", "secondName": "Petrov"}
    user_query = "query($id: ID!) { user(id: $id) { id login firstName } }"
    assert (await router.field(user_query, {"id": customer.id}, token=token)) == {
        "id": customer.id,
        "login": customer.login,
        "firstName": "Olya",
    }
    assert (await router.field(user_query, {"id": customer.id}, token=admin))["login"] == customer.login
    assert (await router.field(user_query, {"id": "999999"}, token=admin)) is None

    # createUserCategory, renameUserCategory
    create = "mutation($n: String!) { createUserCategory(name: $n) { id name } }"
    fun = await router.field(create, {"n": "Fun"}, token=token)
    gifts = await router.field(create, {"n": "Gifts"}, token=token)
    renamed = await router.field(
        'mutation($id: ID!) { renameUserCategory(id: $id, name: "Presents") { id name } }',
        {"id": gifts["id"]},
        token=token,
    )
    assert renamed == {"id": gifts["id"], "name": "Presents"}
    assert codes(await router.call(create, {"n": "Fun"}, token=token)) == ["CONFLICT"]

    # buy (also with an idempotency key), check, checks(ids)
    c1 = await bought(router, token, catalog.shop_id, [(novel, 2)], name="Reading", payment="CASH")
    c2 = await bought(
        router, token, catalog.shop_id, [(chess, 1), (novel, 1)], name="Gift", idempotency_key="gift-1"
    )
    again = await bought(
        router, token, catalog.shop_id, [(chess, 1), (novel, 1)], name="Gift", idempotency_key="gift-1"
    )
    assert again.id == c2.id and again.number == c2.number == 2
    c3 = await bought(router, token, catalog.shop_id, [(novel, 1)], name="Third")
    stock = await router.data(
        "query($a: ID!, $b: ID!) { a: product(id: $a) { stock } b: product(id: $b) { stock } }",
        {"a": novel, "b": chess},
    )
    assert stock == {"a": {"stock": 6}, "b": {"stock": 2}}
    check_fields = "id number total payment user { id login } shop { id } purchase { name } lines { quantity unitPrice total product { name } }"
    check = await router.field(
        f"query($id: ID!) {{ check(id: $id) {{ {check_fields} }} }}", {"id": c2.id}, token=token
    )
    assert check["number"] == 2 and check["total"] == 220000 and check["payment"] == "CARD"
    assert check["user"] == {"id": customer.id, "login": customer.login}
    assert check["purchase"] == {"name": "Gift"}
    assert sorted(
        (line["product"]["name"], line["quantity"], line["unitPrice"], line["total"])
        for line in check["lines"]
    ) == [
        ("Chess", 1, 150000, 150000),
        ("Novel", 1, 70000, 70000),
    ]
    checks = await router.field(
        "query($ids: [ID!]!) { checks(ids: $ids) { id number lines { product { name } } } }",
        {"ids": [c1.id, "999999", c3.id]},
        token=token,
    )
    assert checks == [
        {"id": c1.id, "number": 1, "lines": [{"product": {"name": "Novel"}}]},
        None,
        {"id": c3.id, "number": 3, "lines": [{"product": {"name": "Novel"}}]},
    ]

    # shop.checks for the ADMIN, paginated
    checks_query = "query($s: ID!, $after: String) { shop(id: $s) { checks(first: 2, after: $after) { totalCount nodes { number } pageInfo { hasNextPage endCursor } } } }"
    page = (await router.field(checks_query, {"s": catalog.shop_id}, token=admin))["checks"]
    assert (
        page["totalCount"] == 3
        and page["nodes"] == [{"number": 1}, {"number": 2}]
        and page["pageInfo"]["hasNextPage"]
    )
    page = (
        await router.field(
            checks_query, {"s": catalog.shop_id, "after": page["pageInfo"]["endCursor"]}, token=admin
        )
    )["checks"]
    assert page["nodes"] == [{"number": 3}] and not page["pageInfo"]["hasNextPage"]

    # me.purchases (newest first, paginated) and purchases(ids)
    mine = "query($after: String) { me { purchases(first: 2, after: $after) { totalCount nodes { id name payment total createdAt user { login } check { id } } pageInfo { hasNextPage endCursor } } } }"
    page = (await router.field(mine, token=token))["purchases"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    rest = (await router.field(mine, {"after": page["pageInfo"]["endCursor"]}, token=token))["purchases"]
    assert not rest["pageInfo"]["hasNextPage"]
    nodes = page["nodes"] + rest["nodes"]
    assert [n["name"] for n in nodes] == ["Third", "Gift", "Reading"]
    assert [n["check"]["id"] for n in nodes] == [c3.id, c2.id, c1.id]
    assert [(n["payment"], n["total"]) for n in nodes] == [
        ("CARD", 70000),
        ("CARD", 220000),
        ("CASH", 140000),
    ]
    assert all(n["user"] == {"login": customer.login} for n in nodes)
    p3, p2, p1 = (n["id"] for n in nodes)
    by_ids = await router.field(
        "query($ids: [ID!]!) { purchases(ids: $ids) { id name } }",
        {"ids": [p1, "999999", p3, p2]},
        token=token,
    )
    assert by_ids == [
        {"id": p1, "name": "Reading"},
        None,
        {"id": p3, "name": "Third"},
        {"id": p2, "name": "Gift"},
    ]

    # updatePurchase: set fields and category; omitting the category keeps it; an explicit null clears it
    update = "mutation($i: UpdatePurchaseInput!) { updatePurchase(input: $i) { id name payment userCategory { id name } } }"
    set_ = await router.field(
        update,
        {"i": {"id": p1, "name": "Reading list", "payment": "CARD", "userCategoryId": fun["id"]}},
        token=token,
    )
    assert set_ == {
        "id": p1,
        "name": "Reading list",
        "payment": "CARD",
        "userCategory": {"id": fun["id"], "name": "Fun"},
    }
    kept = await router.field(update, {"i": {"id": p1, "name": "Reading"}}, token=token)
    assert kept["userCategory"] == {"id": fun["id"], "name": "Fun"} and kept["name"] == "Reading"
    cleared = await router.field(update, {"i": {"id": p1, "userCategoryId": None}}, token=token)
    assert cleared == {"id": p1, "name": "Reading", "payment": "CARD", "userCategory": None}
    await router.data(update, {"i": {"id": p1, "userCategoryId": fun["id"]}}, token=token)
    literal = await router.field(
        "mutation($id: ID!) { updatePurchase(input: {id: $id, userCategoryId: null}) { userCategory { id } } }",
        {"id": p1},
        token=token,
    )
    assert literal == {"userCategory": None}

    # deleteUserCategory: its purchases stay, uncategorised
    await router.data(update, {"i": {"id": p2, "userCategoryId": gifts["id"]}}, token=token)
    deleted = await router.field(
        "mutation($id: ID!) { deleteUserCategory(id: $id) }", {"id": gifts["id"]}, token=token
    )
    assert deleted == gifts["id"]
    after = await router.data(
        "query($ids: [ID!]!) { purchases(ids: $ids) { id name userCategory { id } } me { categories { id name } } }",
        {"ids": [p2]},
        token=token,
    )
    assert after["purchases"] == [{"id": p2, "name": "Gift", "userCategory": None}]
    assert after["me"]["categories"] == [{"id": fun["id"], "name": "Fun"}]

    # deletePurchase: the purchase goes, the shop's check stays
    assert (
        await router.field("mutation($id: ID!) { deletePurchase(id: $id) }", {"id": p1}, token=token)
    ) == p1
    left = await router.data(
        "query($ids: [ID!]!, $c: ID!) { purchases(ids: $ids) { id } me { purchases { totalCount } } check(id: $c) { id number purchase { id } } }",
        {"ids": [p1], "c": c1.id},
        token=token,
    )
    assert left == {
        "purchases": [None],
        "me": {"purchases": {"totalCount": 2}},
        "check": {"id": c1.id, "number": 1, "purchase": None},
    }
    assert codes(
        await router.call("mutation($id: ID!) { deletePurchase(id: $id) }", {"id": p1}, token=token)
    ) == ["NOT_FOUND"]
