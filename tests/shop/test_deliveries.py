"""deliverMany: many deliveries in one transaction, each once per key, a refused one failing alone."""

from datetime import timedelta

import httpx
from sqlmodel import func, select
from starlette.applications import Starlette

from subgraphs._common.auth import Role
from subgraphs._common.retention import Pruner
from subgraphs.shop import deliveries, outbox
from subgraphs.shop.models import Delivery, Outbox
from subgraphs.shop.services import MAX_STOCK
from tests.shop.fixtures import ADMIN, BUY, catalog
from tests.shop.fixtures import order as buy_order
from tests.support import codes, gql, token

DELIVER_MANY = (
    "mutation($inputs: [DeliverInput!]!) { deliverMany(inputs: $inputs) { key count product { id stock } } }"
)
STOCK = '{ products(ids: ["1", "2"]) { nodes { stock } } }'
FACTORY = token("service:factory", Role.SERVICE)


async def stock(shop: httpx.AsyncClient) -> list[int]:
    return [node["stock"] for node in (await gql(shop, STOCK))["data"]["products"]["nodes"]]


def order(product: str, count: int, key: str) -> dict[str, object]:
    return {"productId": product, "count": count, "key": key}


async def test_each_delivery_applies_once_and_a_refused_one_fails_alone(shop: httpx.AsyncClient) -> None:
    await catalog(shop, stock=10)
    first = await gql(shop, DELIVER_MANY, {"inputs": [order("1", 5, "run-1")]}, as_=FACTORY)
    assert first["data"]["deliverMany"] == [{"key": "run-1", "count": 5, "product": {"id": "1", "stock": 15}}]
    inputs = [
        order("1", 5, "run-1"),  # delivered before: the first delivery again, no stock
        order("2", 3, "run-2"),
        order("2", 3, "run-2"),  # the same key twice in one batch: once
        order("1", 0, "run-3"),  # bad count
        order("999", 1, "run-4"),  # no such product
        order("1", MAX_STOCK, "run-5"),  # beyond the stock bound
        order("1", 7, "run-6"),
    ]
    body = await gql(shop, DELIVER_MANY, {"inputs": inputs}, as_=FACTORY)
    entries = body["data"]["deliverMany"]
    assert [entry and entry["key"] for entry in entries] == [
        "run-1",
        "run-2",
        "run-2",
        None,
        None,
        None,
        "run-6",
    ]
    assert entries[0]["count"] == 5
    errors = {tuple(error["path"]): error["extensions"] for error in body["errors"]}
    assert errors == {
        ("deliverMany", 3): {"code": "BAD_USER_INPUT", "field": "count"},
        ("deliverMany", 4): {"code": "NOT_FOUND", "field": "productId"},
        ("deliverMany", 5): {"code": "BAD_USER_INPUT", "field": "count"},
    }
    assert await stock(shop) == [15 + 7, 10 + 3]


async def test_a_key_with_a_nul_character_is_refused_alone(shop: httpx.AsyncClient) -> None:
    # Found by fuzzing: PostgreSQL cannot store the key, and the whole batch failed with INTERNAL_SERVER_ERROR.
    await catalog(shop, stock=10)
    inputs = [order("1", 1, "run\x00-1"), order("1", 2, "run-2")]
    body = await gql(shop, DELIVER_MANY, {"inputs": inputs}, as_=FACTORY)
    assert [entry and entry["count"] for entry in body["data"]["deliverMany"]] == [None, 2]
    assert [(error["path"], error["extensions"]) for error in body["errors"]] == [
        (["deliverMany", 0], {"code": "BAD_USER_INPUT", "field": "key"})
    ]
    assert await stock(shop) == [12, 10]


async def test_only_admins_and_services_deliver_and_batches_are_bounded(shop: httpx.AsyncClient) -> None:
    await catalog(shop, stock=10)
    one = {"inputs": [order("1", 1, "k")]}
    assert codes(await gql(shop, DELIVER_MANY, one, as_=token(3))) == ["FORBIDDEN"]
    assert codes(await gql(shop, DELIVER_MANY, one)) == ["UNAUTHENTICATED"]
    too_many = {"inputs": [order("1", 1, f"k{n}") for n in range(1001)]}
    body = await gql(shop, DELIVER_MANY, too_many, as_=ADMIN)
    assert (codes(body), body["errors"][0]["extensions"]["field"]) == (["BAD_USER_INPUT"], "inputs")
    assert codes(await gql(shop, DELIVER_MANY, {"inputs": []}, as_=ADMIN)) == ["BAD_USER_INPUT"]
    assert await stock(shop) == [10, 10]


async def test_deliveries_and_sent_outbox_rows_past_the_retention_window_are_pruned(
    shop_app: Starlette, shop: httpx.AsyncClient, customer: str
) -> None:
    await catalog(shop, stock=10)
    await gql(shop, DELIVER_MANY, {"inputs": [order("1", 1, "a"), order("2", 1, "b")]}, as_=FACTORY)
    assert (await gql(shop, BUY, buy_order([("1", 1)]), as_=customer))["data"]["buy"]["number"] == 1
    db = shop_app.state.resources.db
    await shop_app.state.resources.relay.flushed()  # the buy's purchase is confirmed as sent
    pruner = Pruner(
        "test-pruner",
        db=db,
        prunes=[deliveries.prune, outbox.OUTBOX.prune],
        retention=timedelta(0),
        interval=60,
    )
    assert await pruner.prune() == 3  # two deliveries and the one sent outbox row
    counts = await db.read(
        lambda session: [session.exec(select(func.count()).select_from(t)).one() for t in (Delivery, Outbox)]
    )
    assert counts == [0, 0]
    assert await stock(shop) == [10 + 1 - 1, 10 + 1]  # pruning removes records, never stock
