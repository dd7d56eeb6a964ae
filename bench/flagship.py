"""The flagship: API.md's MyPurchases through the router, for customers with 1 to 1,000 purchases."""

import logging

from bench import data
from bench.ceilings import Ceiling
from bench.figures import Figures
from bench.load import wrk
from bench.rss import Peaks, sampled
from bench.system import System
from tools.client import GraphQLClient

logger = logging.getLogger(__name__)
SECTION = "Flagship: MyPurchases through the router"
LINES = 3
# API.md's MyPurchases, but for the page size and one line break.
FLAGSHIP = """query MyPurchases {
  me {
    login
    purchases(first: 50) {
      totalCount
      nodes {
        name payment total createdAt
        userCategory { name }
        check { number createdAt shop { name address }
          lines { quantity unitPrice product { name category { name } } } }
      }
    }
  }
}"""


def document(first: int) -> str:
    """MyPurchases asking for `first` purchases."""
    return FLAGSHIP.replace("purchases(first: 50)", f"purchases(first: {first})")


def case(purchases: int, first: int, concurrency: int) -> str:
    """How the report names one flagship measurement."""
    return f"{purchases} purchase{'s' if purchases != 1 else ''}, first {first}, concurrency {concurrency}"


def prepare(system: System, catalog: data.Catalog, purchases: list[int]) -> dict[int, data.Customer]:
    """One customer per count in `purchases`, each with that many purchases of LINES lines, all recorded."""
    url = system.router_url
    customers = dict(zip(purchases, data.customers(url, "flagship", len(purchases)), strict=True))
    order = catalog.order(LINES)
    for count, customer in customers.items():
        logger.info("  %d buys for %s", count, customer.login)
        data.buy(url, customer, order, count)
    for count, customer in customers.items():
        recorded = data.wait_purchases(url, customer, count)
        if recorded != count:
            raise RuntimeError(f"{customer.login}: {recorded} purchases recorded, {count} bought")
    return customers


def check_answer(url: str, customer: data.Customer, purchases: int, first: int) -> None:
    """Fail unless the measured request answers in full: the page of purchases, each check with its lines."""
    me = GraphQLClient(url, customer.token).call(document(first))["me"]
    nodes = me["purchases"]["nodes"]
    if me["purchases"]["totalCount"] != purchases or len(nodes) != min(purchases, first):
        raise RuntimeError(f"MyPurchases answered {len(nodes)} of {purchases} purchases (first {first})")
    if any(len(node["check"]["lines"]) != LINES for node in nodes):
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
            query, tokens = document(first), [customer.token]
            if warmup:
                wrk(url, query, connections=10, seconds=warmup, tokens=tokens)
            one = wrk(url, query, connections=1, seconds=seconds, tokens=tokens)
            with sampled(system.pids, peaks):
                ten = wrk(url, query, connections=10, seconds=seconds, tokens=tokens)
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
