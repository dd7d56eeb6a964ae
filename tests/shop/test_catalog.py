"""Shops, categories and products: admin writes, public reads, filters, search, pagination."""

import httpx
import pytest

from subgraphs._common.pagination import encode_cursor
from tests.shop.fixtures import ADMIN, catalog
from tests.support import codes, gql, token


async def test_catalog_reads_need_no_token(shop: httpx.AsyncClient) -> None:
    data = await catalog(shop)
    body = await gql(
        shop,
        f'{{ shop(id: "{data.shop_id}") {{ name categories {{ name shop {{ id }} }} '
        "products { totalCount nodes { name price stock category { name } shop { name } } } } }",
    )
    assert body["data"]["shop"] == {
        "name": "Corner",
        "categories": [{"name": "Bakery", "shop": {"id": "1"}}, {"name": "Dairy", "shop": {"id": "1"}}],
        "products": {
            "totalCount": 2,
            "nodes": [
                {
                    "name": "Milk",
                    "price": 100,
                    "stock": 10,
                    "category": {"name": "Dairy"},
                    "shop": {"name": "Corner"},
                },
                {
                    "name": "Bread",
                    "price": 250,
                    "stock": 10,
                    "category": {"name": "Bakery"},
                    "shop": {"name": "Corner"},
                },
            ],
        },
    }
    assert (await gql(shop, '{ shop(id: "999") { name } product(id: "999") { name } }'))["data"] == {
        "shop": None,
        "product": None,
    }


async def test_only_admins_change_the_catalog(shop: httpx.AsyncClient) -> None:
    data = await catalog(shop)
    customer = token(5)
    attempts = [
        'mutation { createShop(input: {name: "Mine", address: "a", phone: "1"}) { id } }',
        f'mutation {{ updateShop(input: {{id: "{data.shop_id}", name: "Mine"}}) {{ id }} }}',
        f'mutation {{ createCategory(shopId: "{data.shop_id}", name: "Mine") {{ id }} }}',
        f'mutation {{ addProduct(input: {{shopId: "{data.shop_id}", name: "Mine", price: 1}}) {{ id }} }}',
        f'mutation {{ updateProduct(input: {{id: "{data.product_ids[0]}", price: 1}}) {{ id }} }}',
    ]
    for attempt in attempts:
        assert codes(await gql(shop, attempt, as_=customer)) == ["FORBIDDEN"], attempt
        assert codes(await gql(shop, attempt)) == ["UNAUTHENTICATED"], attempt
    after = await gql(
        shop, '{ shops { totalCount nodes { name categories { name } } } product(id: "1") { price } }'
    )
    assert after["data"]["shops"]["totalCount"] == 1
    assert after["data"]["shops"]["nodes"][0]["name"] == "Corner"
    assert len(after["data"]["shops"]["nodes"][0]["categories"]) == 2
    assert after["data"]["product"]["price"] == 100


@pytest.mark.parametrize(
    ("mutation", "code", "field"),
    [
        ('createShop(input: {name: "Corner", address: "b", phone: "2"}) { id }', "CONFLICT", "name"),
        ('createShop(input: {name: " ", address: "b", phone: "2"}) { id }', "BAD_USER_INPUT", "name"),
        ('createCategory(shopId: "1", name: "Dairy") { id }', "CONFLICT", "name"),
        ('createCategory(shopId: "77", name: "New") { id }', "NOT_FOUND", "shopId"),
        ('addProduct(input: {shopId: "1", name: "X", price: -1}) { id }', "BAD_USER_INPUT", "price"),
        (
            'addProduct(input: {shopId: "1", name: "X", price: 1, stock: -5}) { id }',
            "BAD_USER_INPUT",
            "stock",
        ),
        (
            'addProduct(input: {shopId: "1", name: "X", price: 1, categoryId: "99"}) { id }',
            "BAD_USER_INPUT",
            "categoryId",
        ),
        ('addProduct(input: {shopId: "x1", name: "X", price: 1}) { id }', "BAD_USER_INPUT", "shopId"),
        ('updateProduct(input: {id: "99", price: 1}) { id }', "NOT_FOUND", "id"),
        # Found by fuzzing (tests/e2e/test_fuzz.py): each was an INTERNAL_SERVER_ERROR on PostgreSQL, the
        # 5,000 digits on both backends.
        (
            'createShop(input: {name: "Nul\\u0000", address: "b", phone: "2"}) { id }',
            "BAD_USER_INPUT",
            "name",
        ),
        ('updateProduct(input: {id: "2147483648", price: 1}) { id }', "BAD_USER_INPUT", "id"),
        (f'updateProduct(input: {{id: "{"9" * 5000}", price: 1}}) {{ id }}', "BAD_USER_INPUT", "id"),
    ],
)
async def test_invalid_catalog_changes(shop: httpx.AsyncClient, mutation: str, code: str, field: str) -> None:
    await catalog(shop)
    body = await gql(shop, f"mutation {{ {mutation} }}", as_=ADMIN)
    assert codes(body) == [code]
    assert body["errors"][0]["extensions"]["field"] == field
    products = await gql(shop, "{ products { totalCount } }")
    assert products["data"]["products"]["totalCount"] == 2


async def test_what_no_row_can_hold_is_bad_input_not_an_internal_error(shop: httpx.AsyncClient) -> None:
    # Found by fuzzing: ids past the 32-bit keys, NUL characters (PostgreSQL refuses both) and cursors holding
    # numbers no key has (Infinity failed on both backends).
    await catalog(shop)
    for beyond in (str(2**31), "9" * 5000):
        body = await gql(shop, "query($id: ID!) { product(id: $id) { id } }", {"id": beyond})
        assert (codes(body), body["errors"][0]["extensions"]["field"]) == (["BAD_USER_INPUT"], "id")
    page = "query($after: String) { products(after: $after) { totalCount } }"
    for key in (float("inf"), 2**40, -(2**40), 1.5e300):
        body = await gql(shop, page, {"after": encode_cursor(key)})
        assert (codes(body), body["errors"][0]["extensions"]["field"]) == (["BAD_USER_INPUT"], "after")
    search = await gql(shop, "query($q: String!) { searchProducts(query: $q) { id } }", {"q": "Milk\x00"})
    assert (codes(search), search["errors"][0]["extensions"]["field"]) == (["BAD_USER_INPUT"], "query")


async def test_update_shop_and_product(shop: httpx.AsyncClient) -> None:
    data = await catalog(shop)
    body = await gql(
        shop,
        f'mutation {{ updateShop(input: {{id: "{data.shop_id}", phone: "777"}}) {{ name phone }} '
        f'updateProduct(input: {{id: "{data.product_ids[0]}", name: "Whole milk", categoryId: "{data.category_ids[1]}"}}) '
        "{ name price category { name } } }",
        as_=ADMIN,
    )
    assert body["data"] == {
        "updateShop": {"name": "Corner", "phone": "777"},
        "updateProduct": {"name": "Whole milk", "price": 100, "category": {"name": "Bakery"}},
    }


async def test_products_filters_and_pagination(shop: httpx.AsyncClient) -> None:
    first = await catalog(shop, name="First")
    second = await catalog(shop, name="Second")
    query = "query($ids: [ID!], $shops: [ID!], $cats: [ID!], $after: String) { products(ids: $ids, shopIds: $shops, categoryIds: $cats, first: 3, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }"
    everything = (await gql(shop, query))["data"]["products"]
    assert everything["totalCount"] == 4 and everything["pageInfo"]["hasNextPage"] is True
    rest = (await gql(shop, query, {"after": everything["pageInfo"]["endCursor"]}))["data"]["products"]
    assert [n["id"] for n in everything["nodes"] + rest["nodes"]] == ["1", "2", "3", "4"]
    assert rest["pageInfo"]["hasNextPage"] is False
    by_shop = (await gql(shop, query, {"shops": [second.shop_id]}))["data"]["products"]
    assert [n["id"] for n in by_shop["nodes"]] == second.product_ids
    by_category = (await gql(shop, query, {"cats": [first.category_ids[1]]}))["data"]["products"]
    assert [n["id"] for n in by_category["nodes"]] == [first.product_ids[1]]
    by_ids = (await gql(shop, query, {"ids": ["4", "1", "99"]}))["data"]["products"]
    assert [n["id"] for n in by_ids["nodes"]] == ["1", "4"]


async def test_search_is_a_case_insensitive_substring(shop: httpx.AsyncClient) -> None:
    first = await catalog(shop, name="First")
    second = await catalog(shop, name="Second")
    query = "query($q: String!, $shops: [ID!], $cats: [ID!]) { searchProducts(query: $q, shopIds: $shops, categoryIds: $cats) { id name } }"
    assert [p["id"] for p in (await gql(shop, query, {"q": "MIL"}))["data"]["searchProducts"]] == ["1", "3"]
    assert [
        p["id"]
        for p in (await gql(shop, query, {"q": "rea", "shops": [second.shop_id]}))["data"]["searchProducts"]
    ] == ["4"]
    only_dairy = await gql(shop, query, {"q": "i", "cats": [first.category_ids[0]]})
    assert only_dairy["data"]["searchProducts"] == [{"id": "1", "name": "Milk"}]
    assert (await gql(shop, query, {"q": "%"}))["data"]["searchProducts"] == []
    assert codes(await gql(shop, query, {"q": "  "})) == ["BAD_USER_INPUT"]


async def test_shop_entities(shop: httpx.AsyncClient) -> None:
    await catalog(shop)
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Shop { name } ... on Product { name } } }"
    reps = [
        {"__typename": "Shop", "id": "1"},
        {"__typename": "Product", "id": "2"},
        {"__typename": "Product", "id": "9"},
    ]
    assert (await gql(shop, query, {"r": reps}))["data"]["_entities"] == [
        {"name": "Corner"},
        {"name": "Bread"},
        None,
    ]


async def test_renaming_a_shop_to_a_taken_name_is_a_conflict(shop: httpx.AsyncClient) -> None:
    await catalog(shop, name="First")
    await catalog(shop, name="Second")
    body = await gql(shop, 'mutation { updateShop(input: {id: "2", name: "First"}) { name } }', as_=ADMIN)
    assert codes(body) == ["CONFLICT"]
    assert body["errors"][0]["extensions"]["field"] == "name"
    names = await gql(shop, "{ shops { nodes { name } } }")
    assert names["data"]["shops"]["nodes"] == [{"name": "First"}, {"name": "Second"}]
