"""Replicas: two processes of every subgraph on one PostgreSQL database, behind the router. Buys stay exact,
purchases are sent once, one process runs the scheduler, and another takes over when it is killed.

On SQLite one process owns the scheduler: a second one refuses to start, and API-only replicas are allowed.
"""

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from client.service_tree_client import GraphQLClientGraphQLMultiError
from subgraphs._common.db import as_utc, sync_url
from tests.databases import Databases
from tests.e2e.helpers import (
    Router,
    admin_token,
    buy,
    codes,
    craft_runs,
    create_catalog,
    create_craft,
    create_factory,
    poll,
    recorded_checks,
    register,
    running_stack,
    settled_runs,
    stock_of,
    unsent_outbox_rows,
)
from tests.support import IDENTITY_ENV
from tools.stack import ROOT, Process, Stack, free_port

pytestmark = pytest.mark.e2e
logger = logging.getLogger(__name__)
STOCK, BUYS, CUSTOMERS = 20, 50, 5


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, databases: Databases) -> Iterator[Stack]:
    """Two processes of each subgraph (uvicorn workers sharing each subgraph's port) on PostgreSQL."""
    if databases.backend != "postgresql":
        pytest.skip("replicas share a PostgreSQL database (make test runs this with --backend postgresql)")
    with running_stack(
        tmp_path_factory.mktemp("replicas"), databases, workers=2, FACTORY_DELIVERY_RETRY_SECONDS="0.2"
    ) as stack:
        yield stack


def scalar(stack: Stack, subgraph: str, sql: str) -> Any:
    """One value read from a subgraph's database."""
    engine = create_engine(sync_url(stack.database_url(subgraph)))
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar()
    finally:
        engine.dispose()


async def test_two_shops_sell_exactly_the_stock_and_send_each_purchase_once(
    replicas: Stack, http: httpx.AsyncClient
) -> None:
    router = Router(http, replicas.router_url)
    admin = admin_token(replicas)
    catalog = await create_catalog(router, admin, {"Toys": [("Limited figure", 1500, STOCK)]}, prefix="Twins")
    product = catalog.products["Limited figure"]
    customers = [await register(router, f"twin{n}") for n in range(CUSTOMERS)]

    answers = await asyncio.gather(
        *(
            buy(router, customers[n % CUSTOMERS].token, catalog.shop_id, [(product.id, 1)], name=f"Twin {n}")
            for n in range(BUYS)
        )
    )

    checks = [answer for answer in answers if not isinstance(answer, GraphQLClientGraphQLMultiError)]
    assert sorted(check.number for check in checks) == list(range(1, STOCK + 1))
    assert all(
        codes(answer) == ["INSUFFICIENT_STOCK"]
        for answer in answers
        if isinstance(answer, GraphQLClientGraphQLMultiError)
    )
    assert await stock_of(router, product.id) == 0
    assert await poll(lambda: _unsent(replicas), lambda n: n == 0, within=20) == 0
    # Counted where it is sent: each purchase was sent once (by its buy), not once per shop process.
    sent = recorded_checks(replicas)
    logger.info(
        "two shops: %d checks of %d buys, %d purchases sent to be recorded", len(checks), BUYS, len(sent)
    )
    assert sorted(sent) == sorted(int(check.id) for check in checks)
    bought_by = [0] * CUSTOMERS
    for n, answer in enumerate(answers):
        bought_by[n % CUSTOMERS] += not isinstance(answer, GraphQLClientGraphQLMultiError)
    for customer, expected in zip(customers, bought_by, strict=True):
        me = await router.data("{ me { purchases(first: 100) { totalCount } } }", token=customer.token)
        assert me["me"]["purchases"]["totalCount"] == expected


async def _unsent(stack: Stack) -> int:
    return unsent_outbox_rows(stack)


def _leader(stack: Stack) -> str | None:
    holder: str | None = scalar(stack, "factory", "SELECT holder FROM scheduler_state WHERE id = 1")
    return holder


async def test_one_scheduler_fires_and_another_takes_over_when_it_is_killed(
    replicas: Stack, http: httpx.AsyncClient
) -> None:
    router = Router(http, replicas.router_url)
    admin = admin_token(replicas, login="lead-admin")
    catalog = await create_catalog(router, admin, {"Dairy": [("Kefir", 7000, 0)]}, prefix="Lead")
    product = catalog.products["Kefir"]
    factory = await create_factory(router, admin, "Lead works")
    craft = await create_craft(router, admin, factory.id, product.id, count=3, interval=1)
    craft_id = craft.id
    await poll(
        lambda: craft_runs(router, admin, craft_id),
        lambda runs: sum(run.status == "DELIVERED" for run in runs) >= 3,
        within=15,
    )
    leader = _leader(replicas)
    assert leader is not None
    pid = int(leader.rsplit(":", 1)[1])
    assert pid in _workers(replicas, "factory"), (pid, _workers(replicas, "factory"))

    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    successor = await poll(
        lambda: _async(_leader, replicas), lambda holder: holder not in (None, leader), within=10
    )
    taken_over_in = time.monotonic() - killed_at
    assert successor not in (None, leader), successor
    # The scrape counts one holder, the successor: the killed process's gauge is gone, not kept at 1.
    held = await poll(
        lambda: scheduler_held(http, replicas),
        lambda held: str(pid) not in held and 1.0 in held.values(),
        within=10,
    )
    assert [holder for holder, value in held.items() if value == 1.0] == [successor.rsplit(":", 1)[1]], held
    assert str(pid) not in held, held
    runs = await poll(
        lambda: craft_runs(router, admin, craft_id),
        lambda runs: sum(run.status == "DELIVERED" for run in runs) >= 8,
        within=20,
    )
    await router.data("mutation($id: ID!) { pauseCraft(id: $id) { id } }", {"id": craft_id}, token=admin)
    runs = await settled_runs(router, admin, craft_id, within=20)
    slots = sorted(as_utc(run.scheduled_at) for run in runs)
    # One run per slot, and no slot skipped: those of the handover were made up late, not lost.
    assert len(set(slots)) == len(runs), runs
    assert [(b - a).total_seconds() for a, b in pairwise(slots)] == [1.0] * (len(slots) - 1), slots
    assert {run.status for run in runs} == {"DELIVERED"}, runs
    assert await stock_of(router, product.id) == 3 * len(runs)
    logger.info(
        "leader %s killed; %s took over in %.2f s; %d runs, one per slot, all delivered",
        leader,
        successor,
        taken_over_in,
        len(runs),
    )
    assert taken_over_in < 10, taken_over_in


async def scheduler_held(http: httpx.AsyncClient, stack: Stack) -> dict[str, float]:
    """service_tree_scheduler_held in a scrape of the factory, by pid."""
    response = await http.get(stack.metrics_url("factory"))
    assert response.status_code == 200, response.text
    return {
        sample.labels["pid"]: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "service_tree_scheduler_held"
    }


async def _async(function: Any, *args: Any) -> Any:
    return function(*args)


def _workers(stack: Stack, subgraph: str) -> list[int]:
    """The worker processes uvicorn started for one subgraph (children of its supervisor)."""
    supervisor = stack.processes[subgraph].popen
    assert supervisor is not None
    listing = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(supervisor.pid)], capture_output=True, text=True
    )
    return [int(pid) for pid in listing.stdout.split()]


@pytest.fixture(scope="module")
def on_sqlite(databases: Databases) -> None:
    if databases.backend != "sqlite":
        pytest.skip("the file lock is SQLite's rule; PostgreSQL replicas stand by instead")


def test_on_sqlite_a_second_scheduler_refuses_to_start(on_sqlite: None, stack: Stack) -> None:
    env = {
        **os.environ,
        **IDENTITY_ENV,  # the stack's identity: the factory's own credential, as the stack gives it
        "SERVICE_TREE_IDENTITY_URL": stack.identity_url,
        "PYTHONPATH": str(ROOT),
        "FACTORY_DATABASE_URL": stack.database_url("factory"),
    }
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "subgraphs.factory.app:create_app",
        "--factory",
        "--port",
        str(port),
    ]
    refused = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode != 0
    assert "already runs the scheduler on this database" in refused.stderr, refused.stderr
    assert "FACTORY_SCHEDULER_ENABLED=false" in refused.stderr
    # An API-only replica of the same database starts and answers.
    replica = Process(
        "api-only factory",
        argv,
        {**env, "FACTORY_SCHEDULER_ENABLED": "false"},
        port,
        "/health",
        stack.data_dir / "logs" / "api-only-factory.log",
    )
    replica.start()
    try:
        replica.wait_healthy(timeout=30)
    finally:
        replica.stop()
