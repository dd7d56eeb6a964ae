"""Buy: one transaction, stock never below zero, numbered checks, purchases recorded once."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from subgraphs._common.auth import Role
from subgraphs._common.db import utcnow
from subgraphs.shop.outbox import OutboxRelay
from tests.purchase.fixtures import register
from tests.shop.fixtures import ADMIN, BUY, catalog, order
from tests.support import Link, codes, count_statements, gql, token

STOCK = '{ products(ids: ["1", "2"]) { nodes { stock } } }'
LATER = timedelta(hours=1)  # drain as if the backoff had passed


async def stock(shop: httpx.AsyncClient) -> list[int]:
    return [node["stock"] for node in (await gql(shop, STOCK))["data"]["products"]["nodes"]]


async def driven(shop_app: Starlette) -> OutboxRelay:
    """The shop's outbox relay with its timer stopped: the test runs its rounds with `drain`."""
    relay: OutboxRelay = shop_app.state.resources.relay
    await relay.poller.stop(grace=5)
    return relay


@pytest.fixture
async def purchase_down(
    shop_app: Starlette, shop: httpx.AsyncClient, customer: str, purchase_link: Link
) -> tuple[str, OutboxRelay]:
    """A customer's token and the driven relay, with the catalog made and the purchase subgraph then cut off."""
    await catalog(shop)
    relay = await driven(shop_app)
    purchase_link.down = True
    return customer, relay


async def test_buy_writes_a_check_with_lines_and_takes_stock(
    shop: httpx.AsyncClient, purchase: httpx.AsyncClient
) -> None:
    customer, user_id = await register(purchase)
    await catalog(shop)
    body = await gql(shop, BUY, order([("1", 3), ("2", 2)]), as_=customer)
    assert body["data"]["buy"] == {
        "id": "1",
        "number": 1,
        "total": 800,
        "payment": "CARD",
        "user": {"id": user_id},
        "lines": [
            {"quantity": 3, "unitPrice": 100, "total": 300, "product": {"id": "1", "stock": 7}},
            {"quantity": 2, "unitPrice": 250, "total": 500, "product": {"id": "2", "stock": 8}},
        ],
    }
    # The purchase is recorded before buy answers, when the purchase subgraph is up.
    mine = await gql(
        purchase, "{ me { purchases { nodes { name total payment check { id } } } } }", as_=customer
    )
    assert mine["data"]["me"]["purchases"]["nodes"] == [
        {"name": "weekly", "total": 800, "payment": "CARD", "check": {"id": "1"}}
    ]


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([("1", 0)], "items.quantity"),
        ([("1", -3)], "items.quantity"),
        ([("1", 10_001)], "items.quantity"),
        ([("1", 1), ("1", 1)], "items.productId"),
        ([], "items"),
        ([("1", 1), ("99", 1)], "items.productId"),
    ],
)
async def test_invalid_buys_change_nothing(
    shop: httpx.AsyncClient, items: list[tuple[str, int]], field: str
) -> None:
    await catalog(shop)
    body = await gql(shop, BUY, order(items), as_=token(1))
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field
    assert await stock(shop) == [10, 10]
    checks = await gql(shop, '{ shop(id: "1") { checks { totalCount } } }', as_=ADMIN)
    assert checks["data"]["shop"]["checks"]["totalCount"] == 0


async def test_products_of_another_shop_are_refused(shop: httpx.AsyncClient) -> None:
    await catalog(shop)
    await catalog(shop, name="Other")
    body = await gql(shop, BUY, order([("1", 1), ("3", 1)]), as_=token(1))
    assert codes(body) == ["BAD_USER_INPUT"]
    assert await stock(shop) == [10, 10]


async def test_insufficient_stock_rolls_back_the_whole_buy(shop: httpx.AsyncClient) -> None:
    await catalog(shop, stock=5)
    body = await gql(shop, BUY, order([("1", 2), ("2", 6)]), as_=token(1))
    assert codes(body) == ["INSUFFICIENT_STOCK"]
    assert body["errors"][0]["extensions"] | {"code": None} == {
        "code": None,
        "productId": "2",
        "available": 5,
    }
    assert await stock(shop) == [5, 5]
    ok = await gql(shop, BUY, order([("1", 5)]), as_=token(1))
    assert ok["data"]["buy"]["number"] == 1


async def test_buy_needs_a_user(shop: httpx.AsyncClient) -> None:
    await catalog(shop)
    assert codes(await gql(shop, BUY, order([("1", 1)]))) == ["UNAUTHENTICATED"]
    assert codes(await gql(shop, BUY, order([("1", 1)]), as_=token("service:x", Role.SERVICE))) == [
        "FORBIDDEN"
    ]
    unknown_shop = order([("1", 1)])
    unknown_shop["input"]["shopId"] = "42"
    assert codes(await gql(shop, BUY, unknown_shop, as_=token(1))) == ["NOT_FOUND"]
    assert await stock(shop) == [10, 10]


WHOLE_CHECK = """id number total payment createdAt user { id } shop { id name address phone }
  lines { quantity unitPrice total product { id name description price stock
    category { id name shop { id } } shop { id name } } }"""


async def test_a_buy_answers_its_check_as_reading_it_shows_it(
    shop: httpx.AsyncClient, purchase: httpx.AsyncClient
) -> None:
    # The buy maps its check from the rows in hand (the stock as it left it), a repeat under its key from the
    # rows read again: both answer every field as the check read afterwards shows it.
    customer, _ = await register(purchase)
    await catalog(shop)
    buy = f"mutation($input: BuyInput!) {{ buy(input: $input) {{ {WHOLE_CHECK} }} }}"
    bought = (await gql(shop, buy, order([("2", 2), ("1", 3)], idempotencyKey="k"), as_=customer))["data"]
    repeated = (await gql(shop, buy, order([("2", 2), ("1", 3)], idempotencyKey="k"), as_=customer))["data"]
    read = await gql(shop, f'{{ check(id: "{bought["buy"]["id"]}") {{ {WHOLE_CHECK} }} }}', as_=customer)
    assert bought["buy"] == repeated["buy"] == read["data"]["check"]
    assert [line["product"]["stock"] for line in bought["buy"]["lines"]] == [7, 8]
    assert bought["buy"]["lines"][1]["product"]["category"]["name"] == "Bakery"


async def test_idempotency_key_returns_the_first_check(
    shop: httpx.AsyncClient, purchase: httpx.AsyncClient
) -> None:
    customer, _ = await register(purchase)
    await catalog(shop)
    first = await gql(shop, BUY, order([("1", 2)], idempotencyKey="cart-42"), as_=customer)
    again = await gql(shop, BUY, order([("1", 2)], idempotencyKey="cart-42"), as_=customer)
    assert first["data"]["buy"]["id"] == again["data"]["buy"]["id"]
    assert await stock(shop) == [8, 10]
    listing = await gql(purchase, "{ me { purchases { totalCount } } }", as_=customer)
    assert listing["data"]["me"]["purchases"]["totalCount"] == 1


async def test_buys_sent_at_once_with_one_idempotency_key_sell_once_and_answer_one_check(
    shop: httpx.AsyncClient, customer: str
) -> None:
    # A client retrying before its first attempt answered: on PostgreSQL the second insert waits on the unique
    # key for the first buy's commit, then finds its check.
    await catalog(shop)
    results = await asyncio.gather(
        *(gql(shop, BUY, order([("1", 2)], idempotencyKey="cart-7"), as_=customer) for _ in range(6))
    )
    assert [codes(result) for result in results] == [[]] * 6
    assert len({result["data"]["buy"]["id"] for result in results}) == 1
    assert await stock(shop) == [8, 10]


async def test_concurrent_buys_never_oversell_and_number_checks_densely(
    shop: httpx.AsyncClient, customer: str
) -> None:
    await catalog(shop, stock=7)
    results = await asyncio.gather(*(gql(shop, BUY, order([("1", 1)]), as_=customer) for _ in range(15)))
    sold = [r["data"]["buy"]["number"] for r in results if r.get("data")]
    refused = [code for r in results for code in codes(r)]
    assert sorted(sold) == [1, 2, 3, 4, 5, 6, 7]
    assert refused == ["INSUFFICIENT_STOCK"] * 8
    assert await stock(shop) == [0, 7]


async def test_concurrent_buys_of_the_same_products_never_deadlock_nor_oversell(
    shop: httpx.AsyncClient, customer: str
) -> None:
    await catalog(shop, stock=9)
    # Both products in either order, and each alone: on PostgreSQL every buy locks the same rows, in one order.
    orders = [[("1", 1), ("2", 1)], [("2", 1), ("1", 1)], [("2", 2)], [("1", 2)]] * 4
    results = await asyncio.gather(*(gql(shop, BUY, order(items), as_=customer) for items in orders))
    sold = [r["data"]["buy"] for r in results if r.get("data")]
    assert {code for r in results for code in codes(r)} <= {"INSUFFICIENT_STOCK"}
    assert sorted(check["number"] for check in sold) == list(range(1, len(sold) + 1))
    taken = [
        sum(line["quantity"] for c in sold for line in c["lines"] if line["product"]["id"] == p) for p in "12"
    ]
    assert await stock(shop) == [9 - taken[0], 9 - taken[1]]
    assert min(await stock(shop)) <= 1  # the buys went on until one product (nearly) ran out


async def test_checks_are_visible_to_their_buyer_and_admins(
    shop: httpx.AsyncClient, purchase: httpx.AsyncClient
) -> None:
    alice, _ = await register(purchase, "alice")
    bob, _ = await register(purchase, "bob")
    await catalog(shop)
    await gql(shop, BUY, order([("1", 1)]), as_=alice)
    query = '{ check(id: "1") { number lines { product { name } } } }'
    assert (await gql(shop, query, as_=alice))["data"]["check"] == {
        "number": 1,
        "lines": [{"product": {"name": "Milk"}}],
    }
    assert codes(await gql(shop, query, as_=bob)) == ["FORBIDDEN"]
    assert (await gql(shop, query, as_=ADMIN))["data"]["check"]["number"] == 1
    assert (await gql(shop, '{ checks(ids: ["1", "7"]) { number } }', as_=bob))["data"]["checks"] == [
        None,
        None,
    ]
    assert (await gql(shop, '{ checks(ids: ["1", "7"]) { number } }', as_=alice))["data"]["checks"] == [
        {"number": 1},
        None,
    ]
    assert codes(await gql(shop, '{ shop(id: "1") { checks { totalCount } } }', as_=alice)) == ["FORBIDDEN"]


CHECK_ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Check {
  number shop { name } lines { quantity product { name stock category { name } } } } } }"""


async def test_check_references_answer_each_check_in_order_missing_and_others_apart(
    shop: httpx.AsyncClient, purchase: httpx.AsyncClient
) -> None:
    alice, _ = await register(purchase, "alice")
    bob, _ = await register(purchase, "bob")
    await catalog(shop, stock=100)
    await gql(shop, BUY, order([("1", 1), ("2", 2)]), as_=alice)
    await gql(shop, BUY, order([("1", 3)]), as_=bob)
    await gql(shop, BUY, order([("2", 4), ("1", 5)]), as_=alice)
    # Alice's last check, Bob's, an unknown one, then her first: milk is in both of hers (lines in product order).
    references = [{"__typename": "Check", "id": key} for key in ("3", "2", "9", "1")]
    body = await gql(shop, CHECK_ENTITIES, {"r": references}, as_=alice)
    milk = {"name": "Milk", "stock": 91, "category": {"name": "Dairy"}}
    bread = {"name": "Bread", "stock": 94, "category": {"name": "Bakery"}}
    assert body["data"]["_entities"] == [
        {
            "number": 3,
            "shop": {"name": "Corner"},
            "lines": [{"quantity": 5, "product": milk}, {"quantity": 4, "product": bread}],
        },
        None,
        None,
        {
            "number": 1,
            "shop": {"name": "Corner"},
            "lines": [{"quantity": 1, "product": milk}, {"quantity": 2, "product": bread}],
        },
    ]
    assert [(error["path"], error["extensions"]["code"]) for error in body["errors"]] == [
        (["_entities", 1], "FORBIDDEN")
    ]


async def test_deliver_is_idempotent_on_its_key(shop: httpx.AsyncClient) -> None:
    await catalog(shop)
    deliver = 'mutation($key: String!, $count: Int!) { deliver(input: {productId: "1", count: $count, key: $key}) { id key count product { stock } } }'
    first = await gql(shop, deliver, {"key": "run-1", "count": 5}, as_=token("service:factory", Role.SERVICE))
    again = await gql(shop, deliver, {"key": "run-1", "count": 5}, as_=ADMIN)
    assert first["data"]["deliver"]["id"] == again["data"]["deliver"]["id"]
    assert again["data"]["deliver"]["product"]["stock"] == 15
    for variables, field in (({"key": "", "count": 1}, "key"), ({"key": "k", "count": 0}, "count")):
        assert (await gql(shop, deliver, variables, as_=ADMIN))["errors"][0]["extensions"]["field"] == field
    assert codes(await gql(shop, deliver, {"key": "run-2", "count": 1}, as_=token(3))) == ["FORBIDDEN"]
    assert await stock(shop) == [15, 10]


async def test_purchase_is_recorded_once_after_the_purchase_subgraph_recovers(
    shop: httpx.AsyncClient,
    purchase: httpx.AsyncClient,
    purchase_link: Link,
    purchase_down: tuple[str, OutboxRelay],
) -> None:
    customer, relay = purchase_down
    bought = await gql(shop, BUY, order([("1", 1)]), as_=customer)
    assert bought["data"]["buy"]["number"] == 1  # the buy succeeds while the purchase subgraph is down
    # Its inline attempt failed before sending anything: no service token can be had while purchase is down.
    assert purchase_link.operations("recordPurchase") == 0
    assert await relay.drain(due_by=utcnow() + LATER) == 0  # a retry while still down
    mine = "{ me { purchases { totalCount nodes { check { id } } } } }"
    assert (await gql(purchase, mine, as_=customer))["data"]["me"]["purchases"]["totalCount"] == 0
    purchase_link.down = False
    assert await relay.drain(due_by=utcnow() + LATER) == 1
    assert await relay.drain(due_by=utcnow() + LATER) == 0  # nothing is left to send
    assert purchase_link.operations("recordPurchase") == 1
    listing = await gql(purchase, mine, as_=customer)
    assert listing["data"]["me"]["purchases"] == {"totalCount": 1, "nodes": [{"check": {"id": "1"}}]}


async def test_a_total_beyond_the_int_range_is_refused_before_anything_changes(
    shop: httpx.AsyncClient, customer: str
) -> None:
    await catalog(shop, stock=10)
    price = await gql(
        shop, 'mutation { updateProduct(input: {id: "1", price: 1000000000}) { price } }', as_=ADMIN
    )
    assert price["data"]["updateProduct"]["price"] == 10**9
    too_dear = await gql(
        shop, 'mutation { updateProduct(input: {id: "1", price: 1000000001}) { price } }', as_=ADMIN
    )
    assert too_dear["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "price"}
    body = await gql(shop, BUY, order([("1", 3)]), as_=customer)  # 3 x 10^9 > 2^31 - 1
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "items"}
    assert await stock(shop) == [10, 10]
    assert (await gql(shop, BUY, order([("1", 2)]), as_=customer))["data"]["buy"]["total"] == 2 * 10**9


RECORDING = "query($id: ID!) { check(id: $id) { recording { status attempts lastError } } }"


async def test_recording_is_retried_for_as_long_as_the_purchase_subgraph_is_down(
    shop: httpx.AsyncClient, purchase_link: Link, purchase_down: tuple[str, OutboxRelay]
) -> None:
    customer, relay = purchase_down
    check_id = (await gql(shop, BUY, order([("1", 1)]), as_=customer))["data"]["buy"]["id"]
    for _ in range(12):  # longer than any attempt budget: a transient failure is never given up on
        assert await relay.drain(due_by=utcnow() + LATER) == 0
    recording = (await gql(shop, RECORDING, {"id": check_id}, as_=ADMIN))["data"]["check"]["recording"]
    assert (recording["status"], recording["attempts"]) == ("PENDING", 13)
    assert "unreachable" in recording["lastError"]
    purchase_link.down = False
    assert await relay.drain(due_by=utcnow() + LATER) == 1
    recording = (await gql(shop, RECORDING, {"id": check_id}, as_=ADMIN))["data"]["check"]["recording"]
    assert recording["status"] == "RECORDED"
    assert codes(await gql(shop, RECORDING, {"id": check_id}, as_=customer)) == ["FORBIDDEN"]


async def test_a_record_the_purchase_subgraph_refuses_for_good_ends_failed(
    shop_app: Starlette, shop: httpx.AsyncClient, purchase_link: Link
) -> None:
    await catalog(shop)
    relay = await driven(shop_app)
    ghost = token(999)  # a valid token of a user the purchase subgraph does not know
    check_id = (await gql(shop, BUY, order([("1", 1)]), as_=ghost))["data"]["buy"]["id"]
    recording = (await gql(shop, RECORDING, {"id": check_id}, as_=ADMIN))["data"]["check"]["recording"]
    assert (recording["status"], recording["attempts"]) == ("FAILED", 1)
    assert "No such user" in recording["lastError"]
    assert await relay.drain(due_by=utcnow() + LATER) == 0
    assert purchase_link.operations("recordPurchase") == 1  # never sent again


async def test_a_buy_costs_few_statements(
    shop_app: Starlette, shop: httpx.AsyncClient, customer: str, record_property: Any
) -> None:
    await catalog(shop, stock=100)
    relay = await driven(shop_app)  # rounds only when the test drains: none writes in the counted blocks
    await gql(shop, BUY, order([("1", 1)]), as_=customer)  # the first buy of a process warms its caches
    await relay.flushed()
    counts = []
    for items in ([("1", 1)], [("1", 1), ("2", 2)]):
        with count_statements(shop_app.state.db.engine) as statements:
            assert "errors" not in await gql(shop, BUY, order(items), as_=customer)
        counts.append(len(statements))
    with count_statements(shop_app.state.db.engine) as marked:
        assert await relay.drain() == 0  # the next round: nothing due, both buys' rows confirmed already
    record_property("sql_statements_per_buy", counts)
    # However many products: the shop with the products and their categories, the check, its lines, its
    # outbox row, the products' stock, the shop's next number and the check numbered with it (written last:
    # the locks are held for as few statements as can be). PostgreSQL adds the check with its lines and row
    # in one statement, and numbers it in one that also sends the stock event's NOTIFY.
    postgres = shop_app.state.db.engine.dialect.name == "postgresql"
    assert counts == ([4, 4] if postgres else [7, 7]), counts
    # The rows marked sent: one statement for every buy since the last round (their purchases were recorded
    # at once, before each buy answered), then the round's claim.
    assert len(marked) == 2, marked
    assert marked[0].startswith("UPDATE outbox SET sent_at"), marked
