"""The router's limits on live subscriptions and its answers to bad WebSocket input: each refusal a coded error
or a coded close, and the router goes on serving."""

import asyncio
import os
import signal

import httpx
import pytest

from tests.e2e.helpers import DELIVER, Router, create_product, stack_fixture
from tests.e2e.subscriptions import Socket, open_subscriptions
from tests.support import auth, codes, poll
from tools.stack import Stack

pytestmark = pytest.mark.e2e

# The upstream timeout is short for the test that outlives it, yet long enough for every query on a loaded machine.
PER_CONNECTION, PER_ADDRESS, IN_ALL, MESSAGE_BYTES, UPSTREAM_TIMEOUT_MS = 3, 4, 5, 50_000, 5_000
stack = stack_fixture(
    "live-limits",
    {
        "ROUTER_SUBSCRIPTIONS_PER_CONNECTION": str(PER_CONNECTION),
        "ROUTER_CONNECTIONS_PER_ADDRESS": str(PER_ADDRESS),
        "ROUTER_MAX_SUBSCRIPTIONS": str(IN_ALL),
        "ROUTER_WS_MAX_MESSAGE_BYTES": str(MESSAGE_BYTES),
        "ROUTER_UPSTREAM_TIMEOUT_MS": str(UPSTREAM_TIMEOUT_MS),
    },
)
STOCK = "subscription($ids: [ID!]!) { stockChanged(productIds: $ids) { id stock } }"


@pytest.fixture(scope="module")
def product_id(stack: Stack, admin: str) -> str:
    async def create() -> str:
        async with httpx.AsyncClient(timeout=60) as http:
            router = Router(http, stack.router_url)
            return (await create_product(router, admin, "Tea", ("Green", 5, 1), prefix="Lim")).id

    return asyncio.run(create())


async def still_serves(stack: Stack, product_id: str) -> None:
    """The router still answers a new WebSocket subscription and an HTTP query."""
    async with Socket.open(stack.router_url) as socket:
        assert (await (await socket.subscribe(STOCK, {"ids": [product_id]})).data())["id"] == product_id
    async with httpx.AsyncClient() as http:
        answer = await http.post(stack.router_url, json={"query": "{ shops(first: 1) { totalCount } }"})
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text


async def test_subscriptions_per_connection_are_limited(stack: Stack, product_id: str) -> None:
    async with Socket.open(stack.router_url) as socket:
        open_ = [await socket.subscribe(STOCK, {"ids": [product_id]}) for _ in range(PER_CONNECTION)]
        for subscription in open_:
            assert (await subscription.data())["id"] == product_id
        assert await (await socket.subscribe(STOCK, {"ids": [product_id]})).codes() == [
            "TOO_MANY_SUBSCRIPTIONS"
        ]
        await socket.complete(open_[0])
        replacement = await socket.subscribe(STOCK, {"ids": [product_id]})
        for _ in range(10):  # the completion reaches the router's count right after the client sent it
            payload = await replacement.next()
            if not payload.get("errors"):
                break
            replacement = await socket.subscribe(STOCK, {"ids": [product_id]})
        assert payload["data"]["stockChanged"]["id"] == product_id


async def test_connections_per_address_are_limited_with_a_coded_close_and_a_coded_sse_refusal(
    stack: Stack, product_id: str
) -> None:
    async with (
        Socket.open(stack.router_url) as one,
        Socket.open(stack.router_url) as two,
        Socket.open(stack.router_url) as three,
        Socket.open(stack.router_url) as four,
    ):
        assert all(s.acknowledged.is_set() for s in (one, two, three, four))
        async with Socket.open(stack.router_url, init=False) as refused:
            code, reason = await refused.close_code()
        assert code == 4429 and reason.startswith("TOO_MANY_CONNECTIONS"), (code, reason)
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                stack.router_url,
                json={"query": STOCK, "variables": {"ids": [product_id]}},
                headers={"accept": "text/event-stream"},
            )
        assert answer.status_code == 429, answer.text
        assert "TOO_MANY_CONNECTIONS" in answer.text
    await still_serves(stack, product_id)


async def test_a_message_over_the_size_limit_closes_the_connection_with_1009(
    stack: Stack, product_id: str
) -> None:
    async with Socket.open(stack.router_url) as socket:
        padding = " " * MESSAGE_BYTES
        await socket.send({"type": "subscribe", "id": "big", "payload": {"query": STOCK + padding}})
        assert (await socket.close_code())[0] == 1009
    await still_serves(stack, product_id)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("this is not JSON", "Invalid message"),
        ({"type": "shout", "id": "1"}, "Invalid message"),
        ({"type": "subscribe", "id": "1"}, "Invalid message"),
        (b"\x00\x01binary", ""),
    ],
    ids=["malformed", "unknown-type", "no-payload", "binary"],
)
async def test_bad_messages_close_the_connection_with_4400_and_the_router_lives(
    stack: Stack, product_id: str, message: object, reason: str
) -> None:
    async with Socket.open(stack.router_url) as socket:
        await socket.send(message)  # type: ignore[arg-type]
        code, said = await socket.close_code()
    assert code == 4400 and said.startswith(reason), (code, said)
    await still_serves(stack, product_id)


async def test_subscribing_before_connection_init_is_refused_with_4401(stack: Stack, product_id: str) -> None:
    async with Socket.open(stack.router_url, init=False) as socket:
        await socket.send({"type": "subscribe", "id": "1", "payload": {"query": STOCK}})
        assert (await socket.close_code())[0] == 4401
    await still_serves(stack, product_id)


async def test_a_bad_token_in_connection_init_is_refused_as_a_bad_header_is(
    stack: Stack, product_id: str
) -> None:
    async with Socket.open(stack.router_url, payload=auth("not-a-token")) as socket:
        assert await (await socket.subscribe(STOCK, {"ids": [product_id]})).codes() == ["UNAUTHENTICATED"]


async def test_subscriptions_meet_the_depth_alias_and_token_limits_of_queries(
    stack: Stack, product_id: str
) -> None:
    deep = "shop { products { nodes { " * 5 + "id" + " } } }" * 5  # 16 levels with stockChanged
    aliases = " ".join(f"a{n}: id" for n in range(101))
    tokens = " ".join(["id"] * 1001)
    async with Socket.open(stack.router_url) as socket:
        for selection in (deep, aliases, tokens):
            document = "subscription($ids: [ID!]!) { stockChanged(productIds: $ids) { " + selection + " } }"
            refused = await socket.subscribe(document, {"ids": [product_id]})
            assert await refused.codes() == ["GRAPHQL_VALIDATION_FAILED"]


async def test_a_document_that_does_not_parse_or_fit_the_schema_is_that_operations_coded_error(
    stack: Stack, product_id: str
) -> None:
    async with Socket.open(stack.router_url) as socket:
        assert await (await socket.subscribe("subscription {")).codes() == ["GRAPHQL_PARSE_FAILED"]
        unknown = await socket.subscribe("subscription { stockWent(productIds: []) { id } }")
        assert await unknown.codes() == ["GRAPHQL_VALIDATION_FAILED"]
        # The connection is still open: its other subscriptions go on.
        assert (await (await socket.subscribe(STOCK, {"ids": [product_id]})).data())["id"] == product_id


async def test_a_subscription_outlives_the_upstream_timeout_of_queries(
    stack: Stack, product_id: str, admin: str
) -> None:
    factory = stack.processes["factory"].popen
    assert factory is not None
    async with Socket.open(stack.router_url) as socket, httpx.AsyncClient(timeout=60) as http:
        watching = await socket.subscribe(STOCK, {"ids": [product_id]})
        stock = (await watching.data())["stock"]
        # The upstream timeout passes while the subscription is open, shown by a query it ends: one asked of a
        # subgraph that does not answer (the factory, stopped: its socket still takes the connection).
        os.killpg(factory.pid, signal.SIGSTOP)
        try:
            timed_out = await http.post(
                stack.router_url, json={"query": "{ factories { id } }"}, headers=auth(admin)
            )
        finally:
            os.killpg(factory.pid, signal.SIGCONT)
        assert codes(timed_out.json()) == ["GATEWAY_TIMEOUT"], timed_out.text
        # Nothing of the inside: not the subgraph's address, not the document the router sent it.
        assert timed_out.json()["errors"][0]["extensions"].keys() <= {"code", "serviceName", "http"}, (
            timed_out.text
        )
        router = Router(http, stack.router_url)
        await router.data(DELIVER, {"p": product_id, "k": f"outlive-{product_id}", "n": 1}, token=admin)
        assert (await watching.data())["stock"] == stock + 1
    await still_serves(stack, product_id)


async def test_the_router_holds_at_most_its_number_of_subscriptions_in_all(
    stack: Stack, product_id: str
) -> None:
    async with Socket.open(stack.router_url) as one, Socket.open(stack.router_url) as two:
        held = [await one.subscribe(STOCK, {"ids": [product_id]}) for _ in range(3)]
        held += [await two.subscribe(STOCK, {"ids": [product_id]}) for _ in range(2)]
        for subscription in held:
            await subscription.data()
        async with Socket.open(stack.router_url) as three:
            refused = await three.subscribe(STOCK, {"ids": [product_id]})
            assert await refused.codes() == ["TOO_MANY_SUBSCRIPTIONS"]
    await still_serves(stack, product_id)


async def test_a_client_going_away_ends_its_subscriptions_at_the_subgraph(
    stack: Stack, product_id: str
) -> None:
    before = await open_subscriptions(stack, "shop", "stockChanged")
    async with Socket.open(stack.router_url) as socket:
        for _ in range(2):
            await (await socket.subscribe(STOCK, {"ids": [product_id]})).data()
        assert await open_subscriptions(stack, "shop", "stockChanged") == before + 2
    # Idle subscriptions: no event will come to notice the client left; the router ends them upstream.
    after = await poll(
        lambda: open_subscriptions(stack, "shop", "stockChanged"), lambda n: n == before, within=10
    )
    assert after == before
