"""Operating the stack: one buy and one delivery followed across every process by their request id (JSON logs
and the rows they left), the counters of /metrics with their exact deltas and their zeros at start, one trace
holding the router's subgraph fetch and both subgraphs' spans, and every series the dashboard queries."""

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from client.service_tree_client import DeliverInput, GraphQLClientGraphQLMultiError
from subgraphs import registry
from subgraphs._common.db import sync_url
from tests import dashboard
from tests.databases import Databases
from tests.e2e.helpers import (
    Catalog,
    Customer,
    Router,
    admin_token,
    bought,
    buy,
    codes,
    create_catalog,
    delivering_craft,
    poll,
    register,
    running_stack,
    stock_of,
)
from tests.e2e.otlp import Receiver, receiving
from tools.client import document
from tools.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.db_agnostic]

BUY = document("Buy")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with receiving() as started:
        yield started


@pytest.fixture(scope="module")
def observed(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases, receiver: Receiver
) -> Iterator[Stack]:
    """The whole system logging JSON lines and sending its traces to the test's receiver."""
    with running_stack(
        tmp_path_factory.mktemp("observed"),
        databases,
        LOG_FORMAT="json",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
    ) as started:
        yield started


def log_lines(stack: Stack, process: str) -> list[dict[str, Any]]:
    """The JSON lines a process has logged (the router's and the subgraphs' alike)."""
    lines = []
    for line in (stack.data_dir / "logs" / f"{process}.log").read_text(errors="replace").splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def lines_of(stack: Stack, process: str, request_id: str) -> list[dict[str, Any]]:
    """The lines a process logged under `request_id` (the router names it requestId, the subgraphs
    request_id)."""
    return [
        line
        for line in log_lines(stack, process)
        if request_id in (line.get("request_id"), line.get("requestId"))
    ]


def column(stack: Stack, subgraph: str, query: str, **params: Any) -> list[Any]:
    engine = create_engine(sync_url(stack.database_url(subgraph)))
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(query), params).scalars())
    finally:
        engine.dispose()


async def scrape(
    http: httpx.AsyncClient, stack: Stack, process: str
) -> dict[tuple[str, tuple[str, ...]], float]:
    """Every sample of a process's /metrics: (name, sorted label pairs) -> value."""
    response = await http.get(stack.metrics_url(process))
    assert response.status_code == 200, response.text
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = tuple(f"{key}={value}" for key, value in sorted(sample.labels.items()))
            samples[(sample.name, labels)] = sample.value
    return samples


def delta(
    before: dict[tuple[str, tuple[str, ...]], float],
    after: dict[tuple[str, tuple[str, ...]], float],
    name: str,
    *labels: str,
) -> float:
    """How much the sample `name` with `labels` ("key=value", sorted by key) moved."""
    key = (name, labels)
    return after.get(key, 0.0) - before.get(key, 0.0)


# (process, metric, its labels) -> by how much one buy, one refused buy and one delivery move it.
COUNTED = {
    ("shop", "service_tree_graphql_requests_total", "operation=buy"): 2,
    ("shop", "service_tree_graphql_requests_total", "operation=deliver"): 1,
    ("shop", "service_tree_graphql_errors_total", "code=INSUFFICIENT_STOCK operation=buy"): 1,
    ("shop", "service_tree_graphql_request_duration_seconds_count", "operation=buy"): 2,
    ("shop", "service_tree_sql_statements_per_request_count", "operation=buy"): 2,
    ("purchase", "service_tree_graphql_requests_total", "operation=recordPurchase"): 1,
    ("router", "service_tree_router_requests_total", "operation=buy"): 2,
    ("router", "service_tree_router_requests_total", "operation=deliver"): 1,
    ("router", "service_tree_router_errors_total", "code=INSUFFICIENT_STOCK operation=buy"): 1,
}


async def customer_and_shop(router: Router, admin: str, prefix: str) -> tuple[Customer, Catalog]:
    """A new customer, and a shop selling milk (2 in stock) and kefir (5)."""
    catalog = await create_catalog(
        router, admin, {"Dairy": [("Milk", 90, 2), ("Kefir", 120, 5)]}, prefix=prefix
    )
    return await register(router, prefix.lower()), catalog


async def buy_refuse_deliver(router: Router, admin: str, customer: Customer, catalog: Catalog) -> None:
    """A little traffic through the router: a buy, a buy refused for want of stock, a delivery."""
    milk, kefir = catalog.products["Milk"].id, catalog.products["Kefir"].id
    await bought(router, customer.token, catalog.shop_id, [(milk, 1), (kefir, 2)], payment="CASH")
    refusal = await buy(router, customer.token, catalog.shop_id, [(milk, 5)])
    assert isinstance(refusal, GraphQLClientGraphQLMultiError)
    assert codes(refusal) == ["INSUFFICIENT_STOCK"]
    delivered = await router.as_(admin).deliver(
        DeliverInput(product_id=milk, count=10, key=f"{catalog.name}-{uuid.uuid4().hex}")
    )
    assert delivered.deliver.key


async def test_one_buy_and_one_delivery_are_followed_across_every_process_by_their_request_id(
    observed: Stack, http: httpx.AsyncClient
) -> None:
    router = Router(http, observed.router_url)
    admin = admin_token(observed)
    catalog = await create_catalog(router, admin, {"Toys": [("Kite", 700, 5)]}, prefix="Traced")
    kite = catalog.products["Kite"].id
    customer = await register(router, "traced")
    request_id = f"buy-{uuid.uuid4().hex}"

    variables = {
        "input": {
            "shopId": catalog.shop_id,
            "items": [{"productId": kite, "quantity": 1}],
            "payment": "CARD",
            "purchaseName": "Kite",
        }
    }
    response = await http.post(
        observed.router_url,
        json={"query": BUY, "variables": variables},
        headers={"Authorization": f"Bearer {customer.token}", "x-request-id": request_id},
    )
    assert response.status_code == 200 and not response.json().get("errors"), response.text
    assert response.headers["x-request-id"] == request_id
    check_id = int(response.json()["data"]["buy"]["id"])

    # One grep: the router answered it, the shop served it and sent its purchase, the purchase subgraph
    # recorded it, each line under the buy's id.
    assert any(line["msg"] == "graphql request answered" for line in lines_of(observed, "router", request_id))
    shop = [line["message"] for line in lines_of(observed, "shop", request_id)]
    assert f"recording the purchase of check {check_id}" in shop, shop
    purchase = await poll(
        lambda: _messages(observed, "purchase", request_id),
        lambda messages: f"recorded the purchase of check {check_id}" in messages,
        within=20,
    )
    assert f"recorded the purchase of check {check_id}" in purchase, purchase
    # The outbox row keeps the id it came from, for a record sent late.
    stored = column(observed, "shop", "SELECT request_id FROM outbox WHERE check_id = :c", c=check_id)
    assert stored == [request_id]

    # A delivery: the scheduler's round gets an id, stored on the run and seen by the router and the shop.
    _, runs = await delivering_craft(router, admin, kite, count=3, prefix="Traced")
    delivered = next(run for run in runs if run.status == "DELIVERED")
    (round_id,) = column(
        observed, "factory", "SELECT request_id FROM craft_run WHERE key = :k", k=delivered.key
    )
    assert round_id
    assert any(delivered.key in line["message"] for line in lines_of(observed, "factory", round_id))
    assert lines_of(observed, "router", round_id)
    assert lines_of(observed, "shop", round_id)
    assert await stock_of(router, kite) >= 4 + 3


async def _messages(stack: Stack, process: str, request_id: str) -> list[str]:
    return [line["message"] for line in lines_of(stack, process, request_id)]


async def test_counters_move_by_exactly_what_was_done(observed: Stack, http: httpx.AsyncClient) -> None:
    router = Router(http, observed.router_url)
    admin = admin_token(observed, login="metrics_admin")
    customer, catalog = await customer_and_shop(router, admin, "Counted")
    processes = ("router", "shop", "purchase", "factory")
    before = {process: await scrape(http, observed, process) for process in processes}

    await buy_refuse_deliver(router, admin, customer, catalog)
    backlog = await poll(
        lambda: scrape(http, observed, "shop"),
        lambda samples: samples[("service_tree_outbox_backlog", ())] == 0,
        within=20,
    )
    after = {process: await scrape(http, observed, process) for process in processes}

    moved = {key: delta(before[key[0]], after[key[0]], key[1], *key[2].split()) for key in COUNTED}
    assert moved == COUNTED
    # Each buy ran statements; the counts are per request, so two observations.
    assert (
        delta(before["shop"], after["shop"], "service_tree_sql_statements_per_request_sum", "operation=buy")
        >= 2
    )
    assert backlog[("service_tree_outbox_backlog", ())] == 0
    assert backlog[("service_tree_outbox_oldest_age_seconds", ())] == 0
    # The factory: this process runs the scheduler (one process, so one series), no run is waiting or failed.
    held = [value for (name, _), value in after["factory"].items() if name == "service_tree_scheduler_held"]
    assert held == [1.0]
    assert ("service_tree_craft_runs", ("status=FAILED",)) in after["factory"]


async def test_one_trace_holds_the_routers_subgraph_fetch_and_both_subgraphs(
    observed: Stack, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    router = Router(http, observed.router_url)
    admin = admin_token(observed, login="trace_admin")
    catalog = await create_catalog(router, admin, {"Books": [("Atlas", 1500, 3)]}, prefix="Spanned")
    customer = await register(router, "spanned")
    await bought(router, customer.token, catalog.shop_id, [(catalog.products["Atlas"].id, 1)])
    answer = await router.as_(customer.token).my_purchases(first=5)
    assert answer.me is not None
    assert answer.me.purchases.nodes[0].check.shop.name == catalog.name

    def named(traces: dict[str, list[Any]], operation: str) -> list[Any]:
        """The spans of the trace whose router span is `operation` (none yet: an empty list)."""
        for spans in traces.values():
            if any(
                span.service == "router" and span.name == f"graphql.operation {operation}" for span in spans
            ):
                return spans
        return []

    found = await poll(
        lambda: _traces(receiver), lambda traces: not gaps(named(traces, "MyPurchases")), within=30
    )
    spans = named(found, "MyPurchases")
    assert not gaps(spans), (gaps(spans), sorted((span.service, span.name) for span in spans))

    # The buy's trace goes on into the purchase subgraph: the shop's call to record the purchase is in it.
    def recorded_in_trace(traces: dict[str, list[Any]]) -> bool:
        bought = named(traces, "Buy")
        by_id = {span.span_id: span for span in bought}
        return any(
            span.service == "purchase" and span.parent_id in by_id and by_id[span.parent_id].service == "shop"
            for span in bought
        )

    assert recorded_in_trace(await poll(lambda: _traces(receiver), recorded_in_trace, within=30))

    # A scheduler fire's delivery is one trace too: the factory's call, the router's plan, the shop's work.
    await delivering_craft(router, admin, catalog.products["Atlas"].id, count=1, prefix="Spanned")

    def delivery(traces: dict[str, list[Any]]) -> set[str]:
        return max(
            (
                {span.service for span in spans}
                for spans in traces.values()
                if any(span.name == "factory.deliver" for span in spans)
            ),
            key=len,
            default=set(),
        )

    services = delivery(await poll(lambda: _traces(receiver), lambda t: len(delivery(t)) == 3, within=30))
    assert services == {"factory", "router", "shop"}


SQL = ("SELECT", "INSERT", "UPDATE", "BEGIN", "connect")


def gaps(spans: list[Any]) -> list[str]:
    """What a query's trace lacks: the router's subgraph fetches, each subgraph's server span as a child of
    the router's, and each subgraph's SQL."""
    by_id = {span.span_id: span for span in spans}
    missing = [] if any(span.name.startswith("subgraph.execute") for span in spans) else ["router fetch"]
    for service in ("purchase", "shop"):
        if not any(
            span.service == service and span.parent_id in by_id and by_id[span.parent_id].service == "router"
            for span in spans
        ):
            missing.append(f"{service} under the router")
        if not any(span.service == service and span.name.split()[0] in SQL for span in spans):
            missing.append(f"{service} SQL")
    return missing


async def _traces(receiver: Receiver) -> dict[str, list[Any]]:
    return receiver.traces()


def test_every_subgraph_serves_metrics(observed: Stack) -> None:
    for name in registry.NAMES:
        response = httpx.get(observed.metrics_url(name), timeout=30)
        assert response.status_code == 200
        assert "service_tree_graphql_requests_total" in response.text or name == "factory"


async def test_a_scrape_right_after_start_shows_every_operation_at_zero(
    tmp_path: Path, databases: Databases, http: httpx.AsyncClient
) -> None:
    purchase_only = replace(Stack.on_free_ports(tmp_path), databases=databases.for_stack(tmp_path))
    purchase_only.migrate()
    try:
        purchase_only.start("purchase")
        samples = await scrape(http, purchase_only, "purchase")
    finally:
        purchase_only.stop()
    for operation in ("login", "me", "_entities", "other"):
        assert samples[("service_tree_graphql_requests_total", (f"operation={operation}",))] == 0, operation
        count = samples[("service_tree_graphql_request_duration_seconds_count", (f"operation={operation}",))]
        assert count == 0, operation
        errors = ("code=INTERNAL_SERVER_ERROR", f"operation={operation}")
        assert samples[("service_tree_graphql_errors_total", errors)] == 0, operation


# Added by Prometheus to every series it scrapes (the job is the process kind, deploy/observability/prometheus.yml).
SCRAPE_LABELS = {"job", "instance"}
# A sample line's series name as exposed, which is what Prometheus stores (the Python parser would rename a
# counter exposed without _total, as Hive Gateway's are).
SERIES = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(?=[{ ])")


async def exposed(http: httpx.AsyncClient, stack: Stack) -> tuple[set[str], set[str]]:
    """The series names that had samples in every process's /metrics, as exposed, and their label names."""
    names: set[str] = set()
    labels: set[str] = set()
    for process in (registry.ROUTER, *registry.NAMES):
        response = await http.get(stack.metrics_url(process))
        assert response.status_code == 200, f"{process}: {response.text}"
        names.update(match.group() for line in response.text.splitlines() if (match := SERIES.match(line)))
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                labels.update(sample.labels)
    return names, labels


async def test_every_metric_the_dashboard_queries_is_in_a_real_scrape(
    observed: Stack, http: httpx.AsyncClient
) -> None:
    """After a little traffic (a buy, a refused buy, a delivery, a craft whose runs are delivered), every
    metric the Grafana dashboard's queries use is in a scrape of the router or of a subgraph, with the labels
    they group by."""
    wanted = dashboard.metric_names(dashboard.load())
    assert {"service_tree_router_requests_total", "service_tree_scheduler_held"} <= wanted  # the parse works

    router = Router(http, observed.router_url)
    admin = admin_token(observed, login="dashboard_admin")
    customer, catalog = await customer_and_shop(router, admin, "Charted")
    await buy_refuse_deliver(router, admin, customer, catalog)
    # A craft firing every second: runs exist, and their deliveries observe the lateness histogram.
    await delivering_craft(router, admin, catalog.products["Kefir"].id, count=1, prefix="Charted")

    names, labels = await poll(lambda: exposed(http, observed), lambda seen: wanted <= seen[0], within=60)
    assert wanted - names == set(), "the dashboard queries series no process exposes"
    unknown = dashboard.grouping_labels(dashboard.load()) - labels - {"le"} - SCRAPE_LABELS
    assert unknown == set(), "the dashboard groups by labels no series has"
