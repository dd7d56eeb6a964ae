"""Buys through the router under load: checks per second, errors by code, the books balanced afterwards."""

import logging
import time

from bench import data
from bench.figures import Figures
from bench.load import wrk
from bench.system import System
from tools.client import GraphQLClient

logger = logging.getLogger(__name__)
SECTION = "Buy through the router (2 lines each)"
LINES = 2
STOCK = 10_000_000
SETTLE_SECONDS = 60.0
USERS_PER_REQUEST = 10


def _stock(client: GraphQLClient, product_ids: list[str]) -> int:
    return sum(
        client.call("query($p: ID!) { product(id: $p) { stock } }", p=pid)["product"]["stock"]
        for pid in product_ids
    )


def _checks(client: GraphQLClient, shop_id: str) -> int:
    shop = client.call("query($s: ID!) { shop(id: $s) { checks(first: 1) { totalCount } } }", s=shop_id)[
        "shop"
    ]
    return int(shop["checks"]["totalCount"])


def _recorded(admin: GraphQLClient, customers: list[data.Customer]) -> int:
    """The purchases recorded for all `customers`, asked USERS_PER_REQUEST at a time (queries are limited to
    1,000 tokens)."""
    total = 0
    for start in range(0, len(customers), USERS_PER_REQUEST):
        fields = " ".join(
            f'u{n}: user(id: "{customer.user_id}") {{ purchases(first: 1) {{ totalCount }} }}'
            for n, customer in enumerate(customers[start : start + USERS_PER_REQUEST])
        )
        total += sum(int(user["purchases"]["totalCount"]) for user in admin.call(f"{{ {fields} }}").values())
    return total


def _settled(admin: GraphQLClient, shop_id: str, customers: list[data.Customer]) -> tuple[int, int]:
    """Checks and recorded purchases once the buys still under way when wrk stopped have ended and the outbox
    has recorded their purchases (or SETTLE_SECONDS have passed)."""
    deadline, last = time.monotonic() + SETTLE_SECONDS, -1
    while True:
        checks, recorded = _checks(admin, shop_id), _recorded(admin, customers)
        if (checks == last and recorded >= checks) or time.monotonic() > deadline:
            return checks, recorded
        last = checks
        time.sleep(1)


def measure(system: System, figures: Figures, *, concurrencies: list[int], seconds: float) -> None:
    """`buy` with one customer per wrk connection, at each concurrency, on a fresh shop of plenty of stock."""
    url = system.router_url
    admin = data.admin(system)
    catalog = data.catalog(admin, "Buy shop", LINES, STOCK)
    order = catalog.order(LINES)
    customers = data.customers(url, "buyer", max(concurrencies))
    for concurrency in concurrencies:
        case = f"concurrency {concurrency}"
        stock_before, checks_before = _stock(admin, catalog.product_ids), _checks(admin, catalog.shop_id)
        recorded_before = _recorded(admin, customers)
        locked_before = system.log_mentions("database is locked")
        load = wrk(
            url,
            data.BUY,
            variables={"i": order},
            connections=concurrency,
            seconds=seconds,
            tokens=[customer.token for customer in customers[:concurrency]],
            thread_per_connection=True,
        )
        checks, recorded = _settled(admin, catalog.shop_id, customers)
        checks, recorded = checks - checks_before, recorded - recorded_before
        taken = stock_before - _stock(admin, catalog.product_ids)
        errors = sum(load.codes.values())
        figures.add(SECTION, case, "checks/s", load.good / load.seconds)
        figures.add(SECTION, case, "p50 ms", load.p50_ms)
        figures.add(SECTION, case, "p99 ms", load.p99_ms)
        figures.add(SECTION, case, "GraphQL errors", errors)
        figures.add(
            SECTION,
            case,
            "errors other than INSUFFICIENT_STOCK",
            errors - load.codes.get("INSUFFICIENT_STOCK", 0),
        )
        figures.add(SECTION, case, "answers saying 'database is locked'", load.locked)
        figures.add(
            SECTION,
            case,
            "log lines saying 'database is locked'",
            system.log_mentions("database is locked") - locked_before,
        )
        figures.add(SECTION, case, "stock taken = lines of the checks made?", float(taken == LINES * checks))
        figures.add(SECTION, case, "purchases recorded = checks made?", float(recorded == checks))
        figures.add(SECTION, case, "checks made ≥ successful answers?", float(checks >= load.good))
        if load.codes or load.not_ok or load.socket_errors:
            figures.notes.append(
                f"{SECTION}, {case}: errors by code {load.codes}, {load.not_ok} answers not 200, "
                f"{load.socket_errors} socket errors"
            )
        logger.info(
            "  buy c=%d: %d answers, %d good, %d checks made, %d stock taken, %d purchases recorded, %s",
            concurrency,
            load.requests,
            load.good,
            checks,
            taken,
            recorded,
            load.codes,
        )
