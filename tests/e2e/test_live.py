"""Live subscriptions through the real router, by real WebSocket and SSE clients: stock as it changes, runs as
they are delivered (with the product resolved from the shop), purchases as they are recorded, each with the
permissions of queries; a token that expires ends its subscription; a subgraph that goes away ends its
subscriptions with a code, and a new subscription starts from the products as they are."""

import asyncio
import contextlib
import signal
import time
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from client.service_tree_client import GraphQLClientGraphQLMultiError
from subgraphs._common.auth import Role
from tests.e2e.helpers import (
    DELIVER,
    Router,
    bought,
    buy,
    codes,
    craft_running,
    create_catalog,
    create_factory,
    create_product,
    register,
    stock_of,
)
from tests.e2e.subscriptions import RUNS, Socket, Subscription, sse, subscribed, watch_runs
from tests.support import auth, token
from tools.stack import Stack

pytestmark = pytest.mark.e2e

STOCK = "subscription($ids: [ID!]!) { stockChanged(productIds: $ids) { id name stock } }"
RECORDED = (
    "subscription { purchaseRecorded { id name total "
    "check { number shop { name } lines { quantity product { name } } } } }"
)


async def watch_stock(socket: Socket, product_id: str, stock: int) -> Subscription:
    """A stockChanged subscription of one product, past its first event: the product as it is, `stock`."""
    watching = await socket.subscribe(STOCK, {"ids": [product_id]})
    assert (await watching.data())["stock"] == stock
    return watching


async def test_a_delivery_reaches_a_stock_subscriber_within_two_seconds(
    router: Router, stack: Stack, admin: str
) -> None:
    product = await create_product(router, admin, "Dairy", ("Milk", 90, 10), prefix="LiveMilk")
    async with Socket.open(stack.router_url) as socket:
        watching = await socket.subscribe(STOCK, {"ids": [product.id]})
        assert await watching.data() == {"id": product.id, "name": "Milk", "stock": 10}  # as it is now
        started = time.monotonic()
        await router.data(DELIVER, {"p": product.id, "k": f"live-{product.id}", "n": 5}, token=admin)
        assert await watching.data(within=2) == {"id": product.id, "name": "Milk", "stock": 15}
        assert time.monotonic() - started < 2


async def test_a_buy_of_three_shows_stock_down_by_three_over_sse_and_a_refused_buy_sends_nothing(
    router: Router, stack: Stack, admin: str, http: httpx.AsyncClient
) -> None:
    bread = await create_product(router, admin, "Bakery", ("Bread", 50, 10), prefix="LiveBread")
    customer = await register(router, "livebuyer")
    stream = sse(http, stack.router_url, STOCK, {"ids": [bread.id]}, token=customer.token)
    assert (await anext(stream))["data"]["stockChanged"]["stock"] == 10
    await bought(router, customer.token, bread.shop_id, [(bread.id, 3)])
    assert (await asyncio.wait_for(anext(stream), 10))["data"]["stockChanged"]["stock"] == 7
    refused_buy = await buy(router, customer.token, bread.shop_id, [(bread.id, 8)])
    assert isinstance(refused_buy, GraphQLClientGraphQLMultiError)
    assert codes(refused_buy) == ["INSUFFICIENT_STOCK"]  # rolled back: nothing is published
    await router.data(DELIVER, {"p": bread.id, "k": f"live-{bread.id}", "n": 1}, token=admin)
    # The next event is the delivery's: the refused buy sent none in between.
    assert (await asyncio.wait_for(anext(stream), 10))["data"]["stockChanged"]["stock"] == 8
    await stream.aclose()


async def test_an_admin_sees_a_run_go_from_pending_to_delivered_with_the_new_stock_from_the_shop(
    router: Router, stack: Stack, admin: str
) -> None:
    product = await create_product(router, admin, "Fruit", ("Apples", 30, 0), prefix="LiveApples")
    factory = await create_factory(router, admin, "LiveWorks")
    async with Socket.open(stack.router_url, admin) as socket:
        runs = await watch_runs(socket, stack, factory.id)
        async with craft_running(router, admin, factory.id, product.id, count=4, interval=1) as craft:
            pending = await runs.data()
            assert (pending["status"], pending["attempts"]) == ("PENDING", 0)
            assert pending["craft"]["id"] == craft.id
            delivered = await runs.data()
            while (
                delivered["id"] != pending["id"]
            ):  # a second run may be written before the first is delivered
                delivered = await runs.data()
            assert delivered["status"] == "DELIVERED"
            shown = delivered["craft"]["product"]
            assert (shown["id"], shown["name"]) == (product.id, "Apples")
            assert (
                shown["stock"] >= 4 and shown["stock"] % 4 == 0
            )  # resolved from the shop, after the delivery


async def test_a_customer_may_not_watch_runs_and_sees_only_their_own_purchases(
    router: Router, stack: Stack, admin: str
) -> None:
    catalog = await create_catalog(router, admin, {"Toys": [("Kite", 700, 10)]}, prefix="LiveToys")
    kite = catalog.products["Kite"]
    alice, bob = await register(router, "livealice"), await register(router, "livebob")
    async with (
        Socket.open(stack.router_url, alice.token) as alices,
        Socket.open(stack.router_url, bob.token) as bobs,
        Socket.open(stack.router_url, admin) as admins,
    ):
        assert await (await alices.subscribe(RUNS)).codes() == ["FORBIDDEN"]
        alice_sees, bob_sees, admin_sees = [await s.subscribe(RECORDED) for s in (alices, bobs, admins)]
        await subscribed(stack, "purchase", "purchaseRecorded", 3)
        alice_check = await bought(router, alice.token, catalog.shop_id, [(kite.id, 2)], name="For Alice")
        seen = await alice_sees.data()
        assert (seen["name"], seen["total"]) == ("For Alice", 1400)
        assert seen["check"]["number"] == alice_check.number  # the check and its lines, from the shop
        assert seen["check"]["shop"]["name"] == catalog.name
        assert seen["check"]["lines"] == [{"quantity": 2, "product": {"name": "Kite"}}]
        await bought(router, bob.token, catalog.shop_id, [(kite.id, 1)], name="For Bob")
        # Bob's first event is his own purchase: Alice's never reached him.
        assert (await bob_sees.data())["name"] == "For Bob"
        assert [(await admin_sees.data())["name"] for _ in range(2)] == ["For Alice", "For Bob"]


async def test_an_anonymous_caller_may_not_watch_purchases(stack: Stack) -> None:
    async with Socket.open(stack.router_url) as socket:
        assert await (await socket.subscribe(RECORDED)).codes() == ["UNAUTHENTICATED"]


async def test_a_subscription_ends_with_unauthenticated_when_its_token_expires(
    router: Router, stack: Stack, admin: str
) -> None:
    product = await create_product(router, admin, "Dairy", ("Cream", 120, 3), prefix="LiveCream")
    expires_at = time.time() + 3
    short = token("1", Role.CUSTOMER, ttl_seconds=3)
    async with Socket.open(stack.router_url, short) as socket:
        watching = await watch_stock(socket, product.id, 3)
        assert await watching.codes(within=15) == ["UNAUTHENTICATED"]
        await watching.ended()
    assert time.time() >= expires_at - 1  # it ended at the expiry, not before


ENDS_WITHIN = 5.0  # seconds from ending a session to its subscriptions' end (the feed is polled each second)


async def test_ending_a_session_ends_its_subscriptions_with_unauthenticated_within_seconds(
    router: Router, stack: Stack, admin: str
) -> None:
    product = await create_product(router, admin, "Dairy", ("Whey", 50, 2), prefix="LiveWhey")
    customer = await register(router, "liveend")
    async with Socket.open(stack.router_url, customer.token) as socket:
        stock = await watch_stock(socket, product.id, 2)
        purchases = await socket.subscribe(RECORDED)
        assert await router.data("mutation { logoutEverywhere }", token=customer.token) == {
            "logoutEverywhere": 1
        }
        # No event comes meanwhile: the subgraphs end both as soon as they learn the session ended.
        assert await stock.codes(within=ENDS_WITHIN) == ["UNAUTHENTICATED"]
        assert await purchases.codes(within=ENDS_WITHIN) == ["UNAUTHENTICATED"]
    async with Socket.open(stack.router_url, customer.token) as socket:
        assert await (await socket.subscribe(STOCK, {"ids": [product.id]})).codes() == ["UNAUTHENTICATED"]


async def test_unknown_and_too_many_ids_are_refused_with_their_codes(
    router: Router, stack: Stack, admin: str
) -> None:
    product = await create_product(router, admin, "Dairy", ("Kefir", 80, 1), prefix="LiveKefir")
    async with Socket.open(stack.router_url, admin) as socket:
        unknown = await socket.subscribe(STOCK, {"ids": [product.id, "999999"]})
        payload = await unknown.next()
        assert [e["extensions"]["code"] for e in payload["errors"]] == ["BAD_USER_INPUT"]
        assert "999999" in payload["errors"][0]["message"]
        await unknown.ended()
        many = await socket.subscribe(STOCK, {"ids": [product.id] * 101})
        assert await many.codes() == ["BAD_USER_INPUT"]
        not_an_id = await socket.subscribe(STOCK, {"ids": ["x"]})
        assert await not_an_id.codes() == ["BAD_USER_INPUT"]
        factory = await socket.subscribe(RUNS, {"factory": "999999"})
        assert await factory.codes() == ["BAD_USER_INPUT"]


async def test_the_typed_client_subscribes(router: Router, admin: str) -> None:
    product = await create_product(router, admin, "Dairy", ("Butter", 200, 6), prefix="LiveButter")

    async def two_changes() -> list[int]:
        seen: list[int] = []
        async for change in router.as_().stock_changed(product_ids=[product.id]):
            seen.append(change.stock_changed.stock)
            if len(seen) == 2:
                break
            await router.data(DELIVER, {"p": product.id, "k": f"typed-{product.id}", "n": 2}, token=admin)
        return seen

    assert await asyncio.wait_for(two_changes(), 20) == [6, 8]
    assert await stock_of(router, product.id) == 8


async def test_a_subgraph_going_away_ends_its_subscriptions_with_a_code_and_a_new_one_resumes(
    router: Router, stack: Stack, admin: str
) -> None:
    product = await create_product(router, admin, "Dairy", ("Yogurt", 60, 4), prefix="LiveYogurt")
    async with Socket.open(stack.router_url) as socket:
        watching = await watch_stock(socket, product.id, 4)
        stack.stop("shop", sig=signal.SIGKILL)  # a crash: no goodbye from the shop
        try:
            assert await watching.codes() == ["SUBSCRIPTION_INTERRUPTED"]
            await watching.ended()
        finally:
            stack.start("shop")
        await router.data(DELIVER, {"p": product.id, "k": f"resume-{product.id}", "n": 1}, token=admin)
        again = await socket.subscribe(STOCK, {"ids": [product.id]})
        assert (await again.data())["stock"] == 5  # starts from the product as it is now: no gap unseen


async def test_events_are_counted_per_field_and_logged_under_the_request_id_of_their_change(
    router: Router, stack: Stack, admin: str, http: httpx.AsyncClient
) -> None:
    product = await create_product(router, admin, "Dairy", ("Ryazhenka", 70, 1), prefix="LiveLogs")
    origin = f"live-origin-{uuid.uuid4().hex}"
    async with Socket.open(stack.router_url) as socket:
        watching = await socket.subscribe(STOCK, {"ids": [product.id]})
        await watching.data()
        delivered = await http.post(
            stack.router_url,
            json={"query": DELIVER, "variables": {"p": product.id, "k": origin, "n": 2}},
            headers={**auth(admin), "x-request-id": origin},
        )
        assert "errors" not in delivered.json(), delivered.text
        assert (await watching.data())["stock"] == 3
        shop = await metric_samples(http, stack.metrics_url("shop"))
        assert shop[("service_tree_subscriptions_open", "stockChanged")] >= 1
        assert shop[("service_tree_subscription_events_total", "stockChanged")] >= 2
        routed = await metric_samples(http, stack.metrics_url("router"), label="operation")
        assert routed[("service_tree_router_subscriptions_open", "stockChanged")] >= 1
        assert routed[("service_tree_router_subscription_events_total", "stockChanged")] >= 2
    log = stack.data_dir / "logs" / "shop.log"
    lines = [line for line in log.read_text().splitlines() if origin in line and "event stock" in line]
    assert lines and "1 changes to" in lines[0], lines


async def metric_samples(
    http: httpx.AsyncClient, url: str, label: str = "field"
) -> dict[tuple[str, str], float]:
    """Every sample of a /metrics page by (name, the value of `label`)."""
    text = (await http.get(url)).text
    return {
        (sample.name, sample.labels.get(label, "")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_many_subscribers_of_one_token_share_the_routers_connection_to_the_subgraph(
    router: Router, stack: Stack, admin: str
) -> None:
    product = await create_product(router, admin, "Dairy", ("Whey", 40, 0), prefix="LiveMany")
    async with contextlib.AsyncExitStack() as sockets:
        opened = [await sockets.enter_async_context(Socket.open(stack.router_url)) for _ in range(6)]
        # 120 anonymous subscriptions: more than a subgraph's WebSocket would take by Strawberry's default.
        watching = [
            await socket.subscribe(STOCK, {"ids": [product.id]}) for socket in opened for _ in range(20)
        ]
        assert [(await each.data())["stock"] for each in watching] == [0] * 120
        await router.data(DELIVER, {"p": product.id, "k": f"many-{product.id}", "n": 1}, token=admin)
        assert [(await each.data())["stock"] for each in watching] == [1] * 120
