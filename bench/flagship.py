"""The flagship: MyPurchases (docs/api.md) through the router, for customers with 1 to 1,000 purchases."""

import logging

from bench import data
from bench.ceilings import Ceiling
from bench.figures import Figures
from bench.load import wrk
from bench.rss import Peaks, sampled
from bench.system import System
from tools.client import SyncGraph, document

logger = logging.getLogger(__name__)
SECTION = "Flagship: MyPurchases through the router"
LINES = 3
# The flagship query, MyPurchases, with the page size a variable (client/operations/purchases.graphql).
FLAGSHIP = document("MyPurchases")


def case(purchases: int, first: int, concurrency: int) -> str:
    """How the report names one flagship measurement."""
    return f"{purchases} purchase{'s' if purchases != 1 else ''}, first {first}, concurrency {concurrency}"


def prepare(system: System, catalog: data.Catalog, purchases: list[int]) -> dict[int, data.Customer]:
    """One customer per count in `purchases`, each with that many purchases of LINES lines, all recorded."""
    with SyncGraph(system.router_url) as graph:
        customers = dict(zip(purchases, data.customers(graph, "flagship", len(purchases)), strict=True))
        order = catalog.order(LINES)
        for count, customer in customers.items():
            logger.info("  %d buys for %s", count, customer.user.login)
            data.buy(graph, customer, order, count)
        for count, customer in customers.items():
            recorded = data.wait_purchases(graph, customer, count)
            if recorded != count:
                raise RuntimeError(f"{customer.user.login}: {recorded} purchases recorded, {count} bought")
    return customers


def check_answer(url: str, customer: data.Customer, purchases: int, first: int) -> None:
    """Fail unless the measured request answers in full: the page of purchases, each check with its lines."""
    with SyncGraph(url, customer.token) as graph:
        me = graph.run(graph.api.my_purchases(first=first)).me
    if me is None:
        raise RuntimeError(f"{customer.user.login}'s token was not taken")
    nodes = me.purchases.nodes
    if me.purchases.total_count != purchases or len(nodes) != min(purchases, first):
        raise RuntimeError(f"MyPurchases answered {len(nodes)} of {purchases} purchases (first {first})")
    if any(len(node.check.lines) != LINES for node in nodes):
        raise RuntimeError("MyPurchases answered a check without its lines")


def measure(
    system: System,
    figures: Figures,
    customers: dict[int, data.Customer],
    router: Ceiling,
    *,
    firsts: list[int],
    seconds: float,
    warmup: float,
    peaks: Peaks,
) -> None:
    """MyPurchases at concurrency 1 and 10 for each customer and page size, next to the router's ceiling.

    Peak RSS is sampled during the concurrency-10 runs."""
    url = system.router_url
    for purchases, customer in customers.items():
        for first in firsts:
            check_answer(url, customer, purchases, first)
            page, tokens = {"first": first}, [customer.token]
            if warmup:
                wrk(url, FLAGSHIP, variables=page, connections=10, seconds=warmup, tokens=tokens)
            one = wrk(url, FLAGSHIP, variables=page, connections=1, seconds=seconds, tokens=tokens)
            with sampled(system.pids, peaks):
                ten = wrk(url, FLAGSHIP, variables=page, connections=10, seconds=seconds, tokens=tokens)
            figures.add_load(SECTION, case(purchases, first, 1), one)
            figures.add(
                SECTION, case(purchases, first, 1), "p50 ÷ router ceiling p50", one.p50_ms / router.one.p50_ms
            )
            figures.add_load(SECTION, case(purchases, first, 10), ten)
            figures.add(
                SECTION,
                case(purchases, first, 10),
                "requests/s ÷ router ceiling",
                ten.per_second / router.ten.per_second,
            )
