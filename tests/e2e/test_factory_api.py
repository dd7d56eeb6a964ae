"""The factory's operations through the real router: each one answers, bad input writes nothing, roles hold,
and one request reaches all three subgraphs (purchase -> shop -> factory)."""

import time
from datetime import datetime
from typing import Any

import pytest

from tests.e2e.helpers import (
    PAUSE_CRAFT,
    SLACK,
    Customer,
    Router,
    bought,
    codes,
    craft_runs,
    create_catalog,
    create_craft,
    create_factory,
    create_product,
    parse_time,
    poll,
    register,
    unique,
)

pytestmark = pytest.mark.e2e

HOUR = 3600
UNKNOWN = "987654"

_FACTORIES = (
    "{ factories { id name createdAt crafts { id countPerRun intervalSeconds active product { id } } } }"
)
_FACTORY = """
query($id: ID!) {
  factory(id: $id) { id name createdAt crafts { id countPerRun intervalSeconds active nextRunAt product { id } } }
}
"""
_CRAFT = """
query($id: ID!) {
  craft(id: $id) {
    id countPerRun intervalSeconds active nextRunAt
    factory { id name }
    product { id name price }
    runs { key }
  }
}
"""
_PRODUCT_CRAFTS = "query($id: ID!) { product(id: $id) { id name crafts { id countPerRun intervalSeconds active factory { id name } } } }"
_RENAME = "mutation($id: ID!, $name: String!) { renameFactory(id: $id, name: $name) { id name createdAt } }"
_DELETE_FACTORY = "mutation($id: ID!) { deleteFactory(id: $id) }"
_CREATE_CRAFT = "mutation($input: CreateCraftInput!) { createCraft(input: $input) { id } }"
_UPDATE = """
mutation($input: UpdateCraftInput!) {
  updateCraft(input: $input) { id countPerRun intervalSeconds active nextRunAt product { id } }
}
"""
_RESUME = "mutation($id: ID!) { resumeCraft(id: $id) { id active nextRunAt } }"
_DELETE_CRAFT = "mutation($id: ID!) { deleteCraft(id: $id) }"


def error_of(body: dict[str, Any]) -> tuple[str, str | None]:
    """(extensions.code, extensions.field) of the only error of a response that has no data."""
    errors = body.get("errors") or []
    assert len(errors) == 1, body
    assert body.get("data") is None, body
    extensions = errors[0]["extensions"]
    return extensions["code"], extensions.get("field")


def listed_time(listed: list[dict[str, Any]], factory_id: str) -> str:
    """The createdAt of a factory in a list of factories, as the API wrote it."""
    [created] = [item["createdAt"] for item in listed if item["id"] == factory_id]
    assert isinstance(created, str)
    return created


def next_run_near(value: str | datetime | None, sent: float, done: float, interval: int) -> bool:
    """nextRunAt is one interval after the moment the server handled the request."""
    assert value is not None
    moment = parse_time(value).timestamp()
    return sent + interval - SLACK <= moment <= done + interval + SLACK


async def test_every_factory_operation_answers_through_the_router(router: Router, admin: str) -> None:
    catalog = await create_catalog(
        router, admin, {"Dairy": [("Cream", 15000, 1), ("Butter", 22000, 0)]}, prefix="Ops"
    )
    cream, butter = catalog.products["Cream"], catalog.products["Butter"]

    # createFactory, factories, factory(id), renameFactory
    before = time.time()
    factory = await create_factory(router, admin, "Ops works")
    assert before - 1 <= parse_time(factory.created_at).timestamp() <= time.time() + SLACK
    listed = (await router.data(_FACTORIES, token=admin))["factories"]
    assert [item for item in listed if item["id"] == factory.id] == [
        {"id": factory.id, "name": factory.name, "createdAt": listed_time(listed, factory.id), "crafts": []}
    ]
    assert parse_time(listed_time(listed, factory.id)) == factory.created_at
    assert [item["id"] for item in listed] == sorted((item["id"] for item in listed), key=int)
    new_name = unique("Renamed works")
    renamed = (await router.data(_RENAME, {"id": factory.id, "name": new_name}, token=admin))["renameFactory"]
    assert renamed == {"id": factory.id, "name": new_name, "createdAt": listed_time(listed, factory.id)}
    assert (await router.data(_FACTORY, {"id": factory.id}, token=admin))["factory"] == {
        **renamed,
        "crafts": [],
    }
    assert (await router.data(_FACTORY, {"id": UNKNOWN}, token=admin)) == {"factory": None}

    # createCraft (paused and running), craft(id), Factory.crafts, Product.crafts, Craft.nextRunAt
    idle = await create_craft(router, admin, factory.id, cream.id, count=7, interval=HOUR, active=False)
    assert idle.next_run_at is None
    assert (idle.factory.id, idle.factory.name) == (factory.id, new_name)
    assert (idle.product.id, idle.product.name) == (cream.id, "Cream")
    sent = time.time()
    busy = await create_craft(router, admin, factory.id, cream.id, count=9, interval=HOUR)
    assert next_run_near(busy.next_run_at, sent, time.time(), HOUR), busy
    assert (await router.data(_CRAFT, {"id": idle.id}, token=admin))["craft"] == {
        "id": idle.id,
        "countPerRun": 7,
        "intervalSeconds": HOUR,
        "active": False,
        "nextRunAt": None,
        "factory": {"id": factory.id, "name": new_name},
        "product": {"id": cream.id, "name": "Cream", "price": 15000},
        "runs": [],
    }
    assert (await router.data(_CRAFT, {"id": UNKNOWN}, token=admin)) == {"craft": None}
    crafts = (await router.data(_FACTORY, {"id": factory.id}, token=admin))["factory"]["crafts"]
    assert [(c["id"], c["countPerRun"], c["active"], c["product"]["id"]) for c in crafts] == [
        (idle.id, 7, False, cream.id),
        (busy.id, 9, True, cream.id),
    ]
    made_by = (await router.data(_PRODUCT_CRAFTS, {"id": cream.id}))["product"]
    assert made_by["name"] == "Cream"
    assert [
        (c["id"], c["countPerRun"], c["intervalSeconds"], c["factory"]["name"]) for c in made_by["crafts"]
    ] == [
        (idle.id, 7, HOUR, new_name),
        (busy.id, 9, HOUR, new_name),
    ]

    # updateCraft: another product, count and interval (a new interval restarts the grid now)
    sent = time.time()
    updated = (
        await router.data(
            _UPDATE,
            {
                "input": {
                    "id": busy.id,
                    "productId": butter.id,
                    "countPerRun": 11,
                    "intervalSeconds": 2 * HOUR,
                }
            },
            token=admin,
        )
    )["updateCraft"]
    assert (updated["countPerRun"], updated["intervalSeconds"], updated["active"]) == (11, 2 * HOUR, True)
    assert updated["product"] == {"id": butter.id}
    assert next_run_near(updated["nextRunAt"], sent, time.time(), 2 * HOUR), updated
    assert [
        c["id"] for c in (await router.data(_PRODUCT_CRAFTS, {"id": butter.id}))["product"]["crafts"]
    ] == [busy.id]
    assert [c["id"] for c in (await router.data(_PRODUCT_CRAFTS, {"id": cream.id}))["product"]["crafts"]] == [
        idle.id
    ]

    # pauseCraft: nextRunAt null; resumeCraft: one interval from now
    paused = (await router.data(PAUSE_CRAFT, {"id": busy.id}, token=admin))["pauseCraft"]
    assert paused == {"id": busy.id, "active": False, "nextRunAt": None}
    sent = time.time()
    resumed = (await router.data(_RESUME, {"id": busy.id}, token=admin))["resumeCraft"]
    assert resumed["active"] is True
    assert next_run_near(resumed["nextRunAt"], sent, time.time(), 2 * HOUR), resumed

    # Craft.runs: a craft every second makes one; runs(last) bounds the list
    quick = await create_craft(router, admin, factory.id, butter.id, count=1, interval=1)
    runs = await poll(
        lambda: craft_runs(router, admin, quick.id),
        lambda runs: any(run.status == "DELIVERED" for run in runs),
        within=10,
    )
    assert runs[-1].status == "DELIVERED", runs
    assert runs[-1].attempts == 1
    assert parse_time(runs[-1].scheduled_at) == parse_time(quick.next_run_at)
    assert (await router.data(PAUSE_CRAFT, {"id": quick.id}, token=admin))["pauseCraft"]["active"] is False
    limited = await router.data(
        "query($id: ID!) { craft(id: $id) { none: runs(last: 0) { key } one: runs(last: 1) { key } } }",
        {"id": quick.id},
        token=admin,
    )
    assert limited["craft"]["none"] == []
    assert len(limited["craft"]["one"]) == 1

    # deleteCraft, then deleteFactory with the crafts it still has
    assert await router.data(_DELETE_CRAFT, {"id": idle.id}, token=admin) == {"deleteCraft": idle.id}
    assert await router.data(_CRAFT, {"id": idle.id}, token=admin) == {"craft": None}
    crafts = (await router.data(_FACTORY, {"id": factory.id}, token=admin))["factory"]["crafts"]
    assert [c["id"] for c in crafts] == [busy.id, quick.id]
    assert await router.data(_DELETE_FACTORY, {"id": factory.id}, token=admin) == {
        "deleteFactory": factory.id
    }
    assert await router.data(_FACTORY, {"id": factory.id}, token=admin) == {"factory": None}
    for craft_id in (busy.id, quick.id):
        assert await router.data(_CRAFT, {"id": craft_id}, token=admin) == {"craft": None}
    assert factory.id not in [
        item["id"] for item in (await router.data(_FACTORIES, token=admin))["factories"]
    ]
    assert (await router.data(_PRODUCT_CRAFTS, {"id": butter.id}))["product"]["crafts"] == []


async def test_bad_input_is_refused_with_its_code_and_writes_nothing(router: Router, admin: str) -> None:
    bread = await create_product(router, admin, "Bakery", ("Rye bread", 6000, 3), prefix="BadInput")
    factory = await create_factory(router, admin, "Careful works")
    craft = await create_craft(router, admin, factory.id, bread.id, count=2, interval=HOUR)

    def create(**changes: Any) -> dict[str, Any]:
        good = {"factoryId": factory.id, "productId": bread.id, "countPerRun": 1, "intervalSeconds": 60}
        return {"input": {**good, **changes}}

    def update(**changes: Any) -> dict[str, Any]:
        return {"input": {"id": craft.id, **changes}}

    cases: list[tuple[str, dict[str, Any], tuple[str, str | None]]] = [
        (_CREATE_CRAFT, create(intervalSeconds=0), ("BAD_USER_INPUT", "intervalSeconds")),
        (_CREATE_CRAFT, create(intervalSeconds=86401), ("BAD_USER_INPUT", "intervalSeconds")),
        (_CREATE_CRAFT, create(countPerRun=-1), ("BAD_USER_INPUT", "countPerRun")),
        (_CREATE_CRAFT, create(countPerRun=0), ("BAD_USER_INPUT", "countPerRun")),
        (_CREATE_CRAFT, create(countPerRun=1_000_001), ("BAD_USER_INPUT", "countPerRun")),
        (_CREATE_CRAFT, create(factoryId=UNKNOWN), ("NOT_FOUND", "factoryId")),
        (_CREATE_CRAFT, create(factoryId="not-an-id"), ("BAD_USER_INPUT", "factoryId")),
        (_CREATE_CRAFT, create(productId=UNKNOWN), ("BAD_USER_INPUT", "productId")),  # checked with the shop
        (_CREATE_CRAFT, create(productId="-5"), ("BAD_USER_INPUT", "productId")),
        (_UPDATE, update(intervalSeconds=0), ("BAD_USER_INPUT", "intervalSeconds")),
        (_UPDATE, update(countPerRun=-1), ("BAD_USER_INPUT", "countPerRun")),
        # A valid change beside an invalid one is not written either.
        (_UPDATE, update(countPerRun=5, intervalSeconds=86401), ("BAD_USER_INPUT", "intervalSeconds")),
        (_UPDATE, update(productId=UNKNOWN, countPerRun=5), ("BAD_USER_INPUT", "productId")),
        (_UPDATE, {"input": {"id": UNKNOWN, "countPerRun": 5}}, ("NOT_FOUND", "id")),
        (PAUSE_CRAFT, {"id": UNKNOWN}, ("NOT_FOUND", "id")),
        (_RESUME, {"id": UNKNOWN}, ("NOT_FOUND", "id")),
        (_DELETE_CRAFT, {"id": UNKNOWN}, ("NOT_FOUND", "id")),
        (_DELETE_FACTORY, {"id": UNKNOWN}, ("NOT_FOUND", "id")),
        (_RENAME, {"id": UNKNOWN, "name": "Nowhere"}, ("NOT_FOUND", "id")),
        (_RENAME, {"id": factory.id, "name": "   "}, ("BAD_USER_INPUT", "name")),
        (_RENAME, {"id": factory.id, "name": "x" * 201}, ("BAD_USER_INPUT", "name")),
        (
            "mutation($name: String!) { createFactory(name: $name) { id } }",
            {"name": ""},
            ("BAD_USER_INPUT", "name"),
        ),
        (
            "mutation($name: String!) { createFactory(name: $name) { id } }",
            {"name": factory.name},
            ("CONFLICT", "name"),
        ),
    ]
    snapshot = await router.data(_FACTORIES, token=admin)
    seen = [error_of(await router.call(query, variables, token=admin)) for query, variables, _ in cases]
    assert seen == [expected for _, _, expected in cases]
    assert await router.data(_FACTORIES, token=admin) == snapshot

    # Reading too many runs is bad input as well.
    body = await router.call(
        "query($id: ID!) { craft(id: $id) { runs(last: 101) { key } } }", {"id": craft.id}, token=admin
    )
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == "last"


async def test_renaming_a_factory_to_a_taken_name_is_a_conflict(router: Router, admin: str) -> None:
    first = await create_factory(router, admin, "Taken works")
    second = await create_factory(router, admin, "Wanting works")
    body = await router.call(_RENAME, {"id": second.id, "name": first.name}, token=admin)
    assert (await router.data(_FACTORY, {"id": second.id}, token=admin))["factory"]["name"] == second.name
    assert error_of(body) == ("CONFLICT", "name")


async def test_customers_may_not_run_factories_and_anyone_sees_who_makes_a_product(
    router: Router, admin: str
) -> None:
    tea = await create_product(router, admin, "Tea", ("Black tea", 25000, 2), prefix="Roles")
    factory = await create_factory(router, admin, "Tea works")
    craft = await create_craft(router, admin, factory.id, tea.id, count=4, interval=HOUR)
    customer = await register(router, "factoryfan")
    snapshot = await router.data(_FACTORIES, token=admin)

    good_craft = {"factoryId": factory.id, "productId": tea.id, "countPerRun": 1, "intervalSeconds": 60}
    mutations: list[tuple[str, dict[str, Any]]] = [
        ("mutation($name: String!) { createFactory(name: $name) { id } }", {"name": unique("Mine")}),
        (_RENAME, {"id": factory.id, "name": unique("Mine")}),
        (_DELETE_FACTORY, {"id": factory.id}),
        (_CREATE_CRAFT, {"input": good_craft}),
        (_UPDATE, {"input": {"id": craft.id, "countPerRun": 1000}}),
        (PAUSE_CRAFT, {"id": craft.id}),
        (_RESUME, {"id": craft.id}),
        (_DELETE_CRAFT, {"id": craft.id}),
    ]
    queries: list[tuple[str, dict[str, Any]]] = [
        ("{ factories { id } }", {}),
        ("query($id: ID!) { factory(id: $id) { id } }", {"id": factory.id}),
        ("query($id: ID!) { craft(id: $id) { id } }", {"id": craft.id}),
    ]
    for query, variables in mutations + queries:
        as_customer = await router.call(query, variables, token=customer.token)
        assert codes(as_customer) == ["FORBIDDEN"], (query, as_customer)
        anonymous = await router.call(query, variables)
        assert codes(anonymous) == ["UNAUTHENTICATED"], (query, anonymous)
    assert await router.data(_FACTORIES, token=admin) == snapshot

    # Who makes a product is public, to anyone...
    public = "query($id: ID!) { product(id: $id) { crafts { id countPerRun intervalSeconds active nextRunAt factory { id name } product { id name } } } }"
    expected = {
        "product": {
            "crafts": [
                {
                    "id": craft.id,
                    "countPerRun": 4,
                    "intervalSeconds": HOUR,
                    "active": True,
                    "nextRunAt": craft.next_run_at,
                    "factory": {"id": factory.id, "name": factory.name},
                    "product": {"id": tea.id, "name": "Black tea"},
                }
            ]
        }
    }

    def read(answer: dict[str, Any]) -> dict[str, Any]:
        """nextRunAt as the typed client reads it."""
        for made in answer["product"]["crafts"]:
            made["nextRunAt"] = parse_time(made["nextRunAt"])
        return answer

    assert read(await router.data(public, {"id": tea.id})) == expected
    assert read(await router.data(public, {"id": tea.id}, token=customer.token)) == expected
    # ...but the runs, and the factory's other crafts, are for ADMINs only.
    for private in (
        "query($id: ID!) { product(id: $id) { crafts { id runs { key } } } }",
        "query($id: ID!) { product(id: $id) { crafts { factory { crafts { id } } } } }",
    ):
        anonymous = await router.call(private, {"id": tea.id})
        assert codes(anonymous) == ["UNAUTHENTICATED"], anonymous
        as_customer = await router.call(private, {"id": tea.id}, token=customer.token)
        assert codes(as_customer) == ["FORBIDDEN"], as_customer
        for body in (anonymous, as_customer):
            assert body.get("data") in (None, {"product": None}), body  # nothing of the craft leaks
    assert (
        await router.data(
            "query($id: ID!) { product(id: $id) { crafts { runs { key } } } }", {"id": tea.id}, token=admin
        )
    ) == {"product": {"crafts": [{"runs": []}]}}


_THREE_SUBGRAPHS = """
{
  me {
    login
    purchases(first: 10) {
      totalCount
      nodes { name check { lines { quantity product { id name crafts { countPerRun factory { name } } } } } }
    }
  }
}
"""


async def test_one_request_reaches_purchase_shop_and_factory(router: Router, admin: str) -> None:
    catalog = await create_catalog(
        router, admin, {"Sweets": [("Honey cake", 48000, 5), ("Gingerbread", 9000, 5)]}, prefix="Three"
    )
    cake, ginger = catalog.products["Honey cake"], catalog.products["Gingerbread"]
    factory = await create_factory(router, admin, "Bakery works")
    await create_craft(router, admin, factory.id, cake.id, count=6, interval=HOUR)
    customer: Customer = await register(router, "sweettooth")
    await bought(router, customer.token, catalog.shop_id, [(cake.id, 2), (ginger.id, 1)], name="Treats")

    async def mine() -> dict[str, Any]:
        body = await router.call(_THREE_SUBGRAPHS, token=customer.token)
        return body

    def recorded(body: dict[str, Any]) -> bool:  # the purchase is recorded by the shop's outbox, soon after
        me = (body.get("data") or {}).get("me") or {}
        return bool(me.get("purchases", {}).get("totalCount"))

    body = await poll(mine, recorded, within=15)
    assert not body.get("errors"), body
    me = body["data"]["me"]
    assert me["login"] == customer.login
    assert me["purchases"]["totalCount"] == 1
    [purchase] = me["purchases"]["nodes"]
    assert purchase["name"] == "Treats"
    lines = sorted(purchase["check"]["lines"], key=lambda line: line["product"]["name"])
    assert lines == [
        {"quantity": 1, "product": {"id": ginger.id, "name": "Gingerbread", "crafts": []}},
        {
            "quantity": 2,
            "product": {
                "id": cake.id,
                "name": "Honey cake",
                "crafts": [{"countPerRun": 6, "factory": {"name": factory.name}}],
            },
        },
    ]
