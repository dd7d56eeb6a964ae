"""Live subscriptions across processes on PostgreSQL: a change committed by one shop process reaches the
subscribers of another (LISTEN/NOTIFY), a process that loses its listening connection ends its
subscriptions with SUBSCRIPTION_INTERRUPTED, then serves new ones once it listens again, and a late or
repeated notification never takes a subscriber's stock back to an older change."""

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text

from subgraphs._common import events
from subgraphs._common.db import sync_url
from subgraphs.factory import runs
from subgraphs.shop import services
from tests.e2e.helpers import (
    DELIVER,
    Router,
    craft_running,
    create_factory,
    create_product,
    poll,
)
from tests.e2e.subscriptions import Socket, watch_runs
from tools.stack import ROOT, Process, Stack, free_port

pytestmark = pytest.mark.e2e

STOCK = "subscription($ids: [ID!]!) { stockChanged(productIds: $ids) { id stock } }"


@pytest.fixture(scope="module")
def second_shop(stack: Stack) -> Iterator[Process]:
    """Another process of the shop subgraph on the stack's database, on a port of its own."""
    if stack.database_url("shop").startswith("sqlite"):
        pytest.skip(
            "events reach other processes through PostgreSQL (make test runs this with --backend postgresql)"
        )
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "subgraphs.shop.app:create_app",
        "--factory",
        "--port",
        str(port),
    ]
    env = stack.process_environment()  # the same database, purchase and identity as the stack's shop
    process = Process(
        "second shop", argv, env, port, "/health", stack.data_dir / "logs" / "second-shop.log", cwd=ROOT
    )
    process.start()
    try:
        process.wait_healthy(timeout=60)
        yield process
    finally:
        process.stop()


@pytest.fixture
def stale_notifications(stack: Stack) -> None:
    """A test that sends notifications of its own (`notify`): they come only through PostgreSQL."""
    if stack.database_url("shop").startswith("sqlite"):
        pytest.skip(
            "a stale notification comes only through PostgreSQL (make test runs this with --backend postgresql)"
        )


def notify(connection: Connection, topic: str, items: list[dict[str, Any]]) -> None:
    """Notify the subgraph's processes of `items` of `topic`, one event each, as its changes do."""
    for item in items:
        for payload in events._payloads(topic, [item], None):
            connection.execute(
                text("SELECT pg_notify(:channel, :payload)"), {"channel": events.CHANNEL, "payload": payload}
            )


def notify_stale(stack: Stack, product_id: int, changes: list[tuple[int, int]]) -> int:
    """Send the shop's processes stock events of `product_id`, as a late or repeated notification would come:
    each (stock, versions back from the product's version now). That version."""
    engine = create_engine(sync_url(stack.database_url("shop")), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            now: int = connection.execute(
                text("SELECT version FROM product WHERE id = :id"), {"id": product_id}
            ).scalar_one()
            items = [{"id": product_id, "stock": stock, "version": now - back} for stock, back in changes]
            notify(connection, services.STOCK, items)
    finally:
        engine.dispose()
    return now


def notify_stale_run(stack: Stack, run_id: int) -> None:
    """Send the factory's processes two events of the run `run_id`, as a late or repeated notification would
    come: the run as it was first written (PENDING, no attempt) and a repeat of it as it is now."""
    engine = create_engine(sync_url(stack.database_url("factory")), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT run.id, run.craft_id, run.key, run.scheduled_at, run.finished_at, run.status, "
                    "run.attempts, run.error, craft.factory_id FROM craft_run AS run "
                    "JOIN craft ON craft.id = run.craft_id WHERE run.id = :id"
                ),
                {"id": run_id},
            ).one()
            now = {name: runs._json(value) for name, value in row._mapping.items()}
            first = now | {"status": runs.PENDING, "attempts": 0, "finished_at": None, "error": None}
            notify(connection, runs.RUN_CHANGES, [first, now])
    finally:
        engine.dispose()


def end_listening(stack: Stack, process: Process) -> int:
    """Terminate the listening connection of `process` from the database side (a network fault, a restarted
    PostgreSQL); how many connections were ended."""
    assert process.popen is not None
    engine = create_engine(sync_url(stack.database_url("shop")))
    try:
        with engine.connect() as connection:
            ended = connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE :name"
                ),
                {"name": f"events %:{process.popen.pid}"},
            ).all()
    finally:
        engine.dispose()
    return len(ended)


async def test_a_change_through_one_shop_process_reaches_a_subscriber_of_another(
    stack: Stack, second_shop: Process, router: Router, admin: str
) -> None:
    product = await create_product(router, admin, "Tools", ("Hammer", 900, 2), prefix="Across")
    async with Socket.open(second_shop.url + "/graphql") as socket:
        watching = await socket.subscribe(STOCK, {"ids": [product.id]})
        assert (await watching.data())["stock"] == 2
        # Through the router, to the stack's own shop process: not the one the subscriber is connected to.
        await router.data(DELIVER, {"p": product.id, "k": f"across-{product.id}", "n": 3}, token=admin)
        assert (await watching.data(within=2))["stock"] == 5


async def test_a_lost_listening_connection_ends_subscriptions_with_a_code_then_serves_new_ones(
    stack: Stack, second_shop: Process, router: Router, admin: str
) -> None:
    product = await create_product(router, admin, "Tools", ("Saw", 1200, 1), prefix="Lost")
    url = second_shop.url + "/graphql"
    async with Socket.open(url) as socket:
        watching = await socket.subscribe(STOCK, {"ids": [product.id]})
        assert (await watching.data())["stock"] == 1
        assert end_listening(stack, second_shop) == 1
        assert await watching.codes() == ["SUBSCRIPTION_INTERRUPTED"]  # events may have been missed
        await watching.ended()
    await router.data(DELIVER, {"p": product.id, "k": f"lost-{product.id}", "n": 4}, token=admin)

    async def resubscribed() -> dict[str, object]:
        async with Socket.open(url) as again:
            return await (await again.subscribe(STOCK, {"ids": [product.id]})).next()

    # Refused (SERVICE_UNAVAILABLE) until the process listens again, then from the product as it is now.
    payload = await poll(resubscribed, lambda answer: not answer.get("errors"), within=20)
    assert payload == {"data": {"stockChanged": {"id": product.id, "stock": 5}}}


@pytest.mark.usefixtures("stale_notifications")
async def test_a_subscriber_through_the_router_never_sees_stock_go_back_to_an_older_change(
    stack: Stack, router: Router, admin: str
) -> None:
    product = await create_product(router, admin, "Tools", ("Level", 1500, 2), prefix="Order")
    async with Socket.open(stack.router_url) as socket:
        watching = await socket.subscribe(STOCK, {"ids": [product.id]})
        assert (await watching.data())["stock"] == 2
        await router.data(DELIVER, {"p": product.id, "k": f"order-{product.id}-1", "n": 3}, token=admin)
        assert (await watching.data())["stock"] == 5
        # Late news of the product as it was (an older version) and a repeat of the last change with another
        # stock: neither is newer than what the subscriber has. Notifications come in order of commit, so
        # both reach the shop before the next delivery's.
        notify_stale(stack, int(product.id), [(2, 1), (99, 0)])
        await router.data(DELIVER, {"p": product.id, "k": f"order-{product.id}-2", "n": 1}, token=admin)
        assert (await watching.data())["stock"] == 6  # not 2, not 99: the next change after 5


@pytest.mark.usefixtures("stale_notifications")
async def test_a_run_subscriber_through_the_router_never_sees_a_run_go_back_to_an_older_change(
    stack: Stack, router: Router, admin: str
) -> None:
    product = await create_product(router, admin, "Tools", ("Clamp", 900, 0), prefix="RunOrder")
    factory = await create_factory(router, admin, "RunOrder")
    async with Socket.open(stack.router_url, admin) as socket:
        watching = await watch_runs(socket, stack, factory.id)
        async with craft_running(router, admin, factory.id, product.id, count=1, interval=1):
            first = await watching.data()
            assert (first["status"], first["attempts"]) == ("PENDING", 0)
            seen = await watching.data()
            while (seen["id"], seen["status"]) != (first["id"], "DELIVERED"):
                seen = await watching.data()
        # Late news of the delivered run as it was first written, and a repeat of it as it is: neither is
        # newer than what the subscriber has. Notifications come in order of commit, so both reach the
        # factory before the witness craft's first run, written after them.
        notify_stale_run(stack, int(first["id"]))
        async with craft_running(router, admin, factory.id, product.id, count=1, interval=1) as witness:
            after = [await watching.data()]
            while after[-1]["craft"]["id"] != witness.id:
                after.append(await watching.data())
    assert [run for run in after if run["id"] == first["id"]] == [], "a run went back to an older change"
