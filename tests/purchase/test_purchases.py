"""Recording purchases (internal, SERVICE only), listing, updating, deleting, and user categories."""

import json
from typing import Any

import httpx
from sqlmodel import select
from starlette.applications import Starlette

from subgraphs._common.auth import Role
from subgraphs._common.events import bus_of
from subgraphs._common.pagination import encode_cursor
from subgraphs.purchase import services
from subgraphs.purchase.models import Purchase
from tests.purchase.fixtures import register
from tests.support import codes, gql, token

RECORD = "mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { id name total } }"
SERVICE = token("service:shop", Role.SERVICE)


def record_input(check_id: int, user_id: str, name: str = "groceries", total: int = 100) -> dict[str, Any]:
    return {
        "input": {
            "checkId": str(check_id),
            "userId": user_id,
            "name": name,
            "payment": "CASH",
            "total": total,
        }
    }


async def test_record_purchase_is_idempotent_on_the_check(purchase: httpx.AsyncClient) -> None:
    alice, alice_id = await register(purchase)
    first = await gql(purchase, RECORD, record_input(7, alice_id), as_=SERVICE)
    again = await gql(purchase, RECORD, record_input(7, alice_id, name="other"), as_=SERVICE)
    assert first["data"]["recordPurchase"] == again["data"]["recordPurchase"]
    listing = await gql(
        purchase, "{ me { purchases { totalCount nodes { name check { id } } } } }", as_=alice
    )
    assert listing["data"]["me"]["purchases"] == {
        "totalCount": 1,
        "nodes": [{"name": "groceries", "check": {"id": "7"}}],
    }


async def test_a_recorded_purchase_is_published_once_as_its_event(
    purchase_app: Starlette, purchase: httpx.AsyncClient
) -> None:
    # On PostgreSQL the event rides in the recording statement (its payload around the new id): what a
    # subscriber gets is the purchase as written, and a repeat, which writes nothing, sends nothing.
    _, alice_id = await register(purchase)
    with bus_of(purchase_app.state.db).subscribe(services.RECORDED) as subscriber:
        first = await gql(purchase, RECORD, record_input(7, alice_id, name='say "hi" \\ ü'), as_=SERVICE)
        await gql(purchase, RECORD, record_input(7, alice_id), as_=SERVICE)
        event = await subscriber.next(10)
        assert event is not None and await subscriber.next(0.5) is None
    recorded = purchase_app.state.db.read_now(
        lambda session: session.exec(select(Purchase).where(Purchase.check_id == 7)).one()
    )
    assert event.items == [json.loads(json.dumps(services.purchase_event(recorded)))]
    assert event.items[0]["id"] == int(first["data"]["recordPurchase"]["id"])
    assert event.items[0]["name"] == 'say "hi" \\ ü'


async def test_only_services_record_purchases(purchase: httpx.AsyncClient) -> None:
    alice, alice_id = await register(purchase)
    for caller, code in (
        (alice, "FORBIDDEN"),
        (token(5, Role.ADMIN), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ):
        body = await gql(purchase, RECORD, record_input(1, alice_id), as_=caller)
        assert codes(body) == [code]
    listing = await gql(purchase, "{ me { purchases { totalCount } } }", as_=alice)
    assert listing["data"]["me"]["purchases"]["totalCount"] == 0


async def test_purchases_are_paginated_newest_first(purchase: httpx.AsyncClient) -> None:
    alice, alice_id = await register(purchase)
    for check_id in range(1, 6):
        await gql(purchase, RECORD, record_input(check_id, alice_id, name=f"p{check_id}"), as_=SERVICE)
    query = "query($after: String) { me { purchases(first: 2, after: $after) { totalCount nodes { name } pageInfo { hasNextPage endCursor } } } }"
    seen: list[str] = []
    after = None
    while True:
        page = (await gql(purchase, query, {"after": after}, as_=alice))["data"]["me"]["purchases"]
        assert page["totalCount"] == 5
        seen += [node["name"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["p5", "p4", "p3", "p2", "p1"]
    too_many = await gql(purchase, "{ me { purchases(first: 101) { totalCount } } }", as_=alice)
    assert codes(too_many) == ["BAD_USER_INPUT"]
    bad_cursor = await gql(purchase, '{ me { purchases(after: "nope") { totalCount } } }', as_=alice)
    assert codes(bad_cursor) == ["BAD_USER_INPUT"]


async def test_categories_and_purchase_updates(purchase: httpx.AsyncClient) -> None:
    alice, alice_id = await register(purchase)
    await gql(purchase, RECORD, record_input(1, alice_id), as_=SERVICE)
    category = (await gql(purchase, 'mutation { createUserCategory(name: "Food") { id name } }', as_=alice))[
        "data"
    ]["createUserCategory"]
    duplicate = await gql(purchase, 'mutation { createUserCategory(name: "Food") { id } }', as_=alice)
    assert codes(duplicate) == ["CONFLICT"]
    update = "mutation($input: UpdatePurchaseInput!) { updatePurchase(input: $input) { name payment userCategory { name } } }"
    set_category = {
        "input": {"id": "1", "userCategoryId": category["id"], "payment": "CARD", "name": "Lunch"}
    }
    updated = await gql(purchase, update, set_category, as_=alice)
    assert updated["data"]["updatePurchase"] == {
        "name": "Lunch",
        "payment": "CARD",
        "userCategory": {"name": "Food"},
    }
    renamed = await gql(
        purchase,
        f'mutation {{ renameUserCategory(id: "{category["id"]}", name: "Meals") {{ name }} }}',
        as_=alice,
    )
    assert renamed["data"]["renameUserCategory"]["name"] == "Meals"
    kept = await gql(purchase, update, {"input": {"id": "1", "name": "Brunch"}}, as_=alice)
    assert kept["data"]["updatePurchase"]["userCategory"] == {"name": "Meals"}
    cleared = await gql(purchase, update, {"input": {"id": "1", "userCategoryId": None}}, as_=alice)
    assert cleared["data"]["updatePurchase"]["userCategory"] is None
    await gql(purchase, update, {"input": {"id": "1", "userCategoryId": category["id"]}}, as_=alice)
    deleted = await gql(purchase, f'mutation {{ deleteUserCategory(id: "{category["id"]}") }}', as_=alice)
    assert deleted["data"]["deleteUserCategory"] == category["id"]
    after = await gql(
        purchase, "{ me { categories { id } purchases { nodes { name userCategory { id } } } } }", as_=alice
    )
    assert after["data"]["me"] == {
        "categories": [],
        "purchases": {"nodes": [{"name": "Brunch", "userCategory": None}]},
    }


async def test_what_no_row_can_hold_is_bad_input_not_an_internal_error(purchase: httpx.AsyncClient) -> None:
    # Found by fuzzing: ids past the 32-bit keys, NUL characters (PostgreSQL refuses both), a cursor holding a
    # number no key has.
    alice, alice_id = await register(purchase)
    await gql(purchase, RECORD, record_input(1, alice_id), as_=SERVICE)
    attempts: list[tuple[str, dict[str, Any], str]] = [
        ("mutation($id: ID!) { deleteUserCategory(id: $id) }", {"id": str(2**31)}, "id"),
        ("mutation($id: ID!) { deletePurchase(id: $id) }", {"id": "9" * 5000}, "id"),
        ("mutation($name: String!) { createUserCategory(name: $name) { id } }", {"name": "Fo\x00od"}, "name"),
        (
            "mutation($input: UpdatePurchaseInput!) { updatePurchase(input: $input) { id } }",
            {"input": {"id": "1", "name": "Lunch\x00"}},
            "name",
        ),
        (
            "query($after: String) { me { purchases(after: $after) { totalCount } } }",
            {"after": encode_cursor("2026-01-01T00:00:00+00:00", 2**40)},
            "after",
        ),
    ]
    for query, variables, field in attempts:
        body = await gql(purchase, query, variables, as_=alice)
        assert (codes(body), body["errors"][0]["extensions"]["field"]) == (["BAD_USER_INPUT"], field), query
    after = await gql(purchase, "{ me { categories { id } purchases { nodes { name } } } }", as_=alice)
    assert after["data"]["me"] == {"categories": [], "purchases": {"nodes": [{"name": "groceries"}]}}


async def test_customers_cannot_touch_each_others_purchases(purchase: httpx.AsyncClient) -> None:
    alice, alice_id = await register(purchase, "alice")
    bob, _ = await register(purchase, "bob")
    await gql(purchase, RECORD, record_input(1, alice_id), as_=SERVICE)
    category_id = (await gql(purchase, 'mutation { createUserCategory(name: "Mine") { id } }', as_=alice))[
        "data"
    ]["createUserCategory"]["id"]
    attempts = [
        'mutation { updatePurchase(input: {id: "1", name: "stolen"}) { id } }',
        'mutation { deletePurchase(id: "1") }',
        f'mutation {{ renameUserCategory(id: "{category_id}", name: "stolen") {{ id }} }}',
        f'mutation {{ deleteUserCategory(id: "{category_id}") }}',
    ]
    for attempt in attempts:
        assert codes(await gql(purchase, attempt, as_=bob)) == ["FORBIDDEN"], attempt
    assert (await gql(purchase, '{ purchases(ids: ["1", "999"]) { id } }', as_=bob))["data"]["purchases"] == [
        None,
        None,
    ]
    # Bob may not file his purchase under Alice's category either.
    own = await gql(purchase, RECORD, record_input(2, "2"), as_=SERVICE)
    steal = f'mutation {{ updatePurchase(input: {{id: "{own["data"]["recordPurchase"]["id"]}", userCategoryId: "{category_id}"}}) {{ id }} }}'
    assert codes(await gql(purchase, steal, as_=bob)) == ["FORBIDDEN"]
    state = await gql(purchase, "{ me { categories { name } purchases { nodes { name } } } }", as_=alice)
    assert state["data"]["me"] == {
        "categories": [{"name": "Mine"}],
        "purchases": {"nodes": [{"name": "groceries"}]},
    }
    mine = await gql(purchase, '{ purchases(ids: ["1"]) { name } }', as_=alice)
    assert mine["data"]["purchases"] == [{"name": "groceries"}]


async def test_delete_purchase(purchase: httpx.AsyncClient) -> None:
    alice, alice_id = await register(purchase)
    await gql(purchase, RECORD, record_input(1, alice_id), as_=SERVICE)
    assert (await gql(purchase, 'mutation { deletePurchase(id: "1") }', as_=alice))["data"][
        "deletePurchase"
    ] == "1"
    assert codes(await gql(purchase, 'mutation { deletePurchase(id: "1") }', as_=alice)) == ["NOT_FOUND"]
    assert (await gql(purchase, "{ me { purchases { totalCount } } }", as_=alice))["data"]["me"][
        "purchases"
    ] == {"totalCount": 0}


async def test_purchase_and_check_entities(purchase: httpx.AsyncClient) -> None:
    alice, alice_id = await register(purchase, "alice")
    bob, _ = await register(purchase, "bob")
    await gql(purchase, RECORD, record_input(41, alice_id), as_=SERVICE)
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
      ... on Purchase { name user { login } check { id } }
      ... on Check { id purchase { name } } } }"""
    reps = [
        {"__typename": "Purchase", "id": "1"},
        {"__typename": "Check", "id": "41"},
        {"__typename": "Check", "id": "42"},
    ]
    mine = await gql(purchase, query, {"r": reps}, as_=alice)
    assert mine["data"]["_entities"] == [
        {"name": "groceries", "user": {"login": "alice"}, "check": {"id": "41"}},
        {"id": "41", "purchase": {"name": "groceries"}},
        {"id": "42", "purchase": None},
    ]
    theirs = await gql(purchase, query, {"r": reps}, as_=bob)
    assert theirs["data"]["_entities"] == [
        None,
        {"id": "41", "purchase": None},
        {"id": "42", "purchase": None},
    ]
