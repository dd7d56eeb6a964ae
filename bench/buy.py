"""Buys through the router under load: checks per second, errors by code, the books balanced afterwards."""

import asyncio
import logging

from bench import data
from bench.figures import Figures
from bench.load import wrk
from bench.system import System
from tools.client import SyncGraph
from tools.polling import poll

logger = logging.getLogger(__name__)
SECTION = "Buy through the router (2 lines each)"
LINES = 2
STOCK = 10_000_000
SETTLE_SECONDS = 60.0
USERS_AT_ONCE = 10


def _stock(admin: SyncGraph, product_ids: list[str]) -> int:
    total = 0
    for pid in product_ids:
        product = admin.run(admin.api.product_stock(id=pid)).product
        if product is None:
            raise RuntimeError(f"product {pid} is gone")
        total += product.stock
    return total


def _checks(admin: SyncGraph, shop_id: str) -> int:
    shop = admin.run(admin.api.shop_check_count(shop_id=shop_id)).shop
    if shop is None:
        raise RuntimeError(f"shop {shop_id} is gone")
    return shop.checks.total_count


def _recorded(admin: SyncGraph, customers: list[data.Customer]) -> int:
    """The purchases recorded for all `customers`, asked for USERS_AT_ONCE users at a time."""

    async def count(batch: list[data.Customer]) -> int:
        answers = await asyncio.gather(*(admin.api.user_purchase_count(id=c.user.id) for c in batch))
        return sum(answer.user.purchases.total_count for answer in answers if answer.user is not None)

    return sum(
        admin.run(count(customers[start : start + USERS_AT_ONCE]))
        for start in range(0, len(customers), USERS_AT_ONCE)
    )


def _settled(admin: SyncGraph, shop_id: str, customers: list[data.Customer]) -> tuple[int, int]:
    """Checks and recorded purchases once the buys still under way when wrk stopped have ended and the outbox
    has recorded their purchases (two reads a second apart agree on the checks; or SETTLE_SECONDS passed)."""
    last = [-1]

    def read() -> tuple[int, int, int]:
        previous, last[0] = last[0], _checks(admin, shop_id)
        return previous, last[0], _recorded(admin, customers)

    _, checks, recorded = poll(
        read, lambda seen: seen[0] == seen[1] and seen[2] >= seen[1], within=SETTLE_SECONDS, interval=1
    )
    return checks, recorded


def measure(system: System, figures: Figures, *, concurrencies: list[int], seconds: float) -> None:
    """`buy` with one customer per wrk connection, at each concurrency, on a fresh shop of plenty of stock."""
    url = system.router_url
    admin = data.admin(system)
    catalog = data.catalog(admin, "Buy shop", LINES, STOCK)
    order = catalog.order(LINES)
    customers = data.customers(admin, "buyer", max(concurrencies))
    for concurrency in concurrencies:
        case = f"concurrency {concurrency}"
        stock_before, checks_before = _stock(admin, catalog.product_ids), _checks(admin, catalog.shop_id)
        recorded_before = _recorded(admin, customers)
        locked_before = system.log_mentions("database is locked")
        load = wrk(
            url,
            data.BUY,
            variables=data.variables(order),
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
