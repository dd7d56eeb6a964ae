"""Delivery lateness: N crafts each delivering every second for S seconds through the router, then paused.

The crafts are created paused, then resumed as fast as the API allows, so that all N deliver at once.

Lateness of a run = finishedAt (the shop confirmed the delivery) - scheduledAt (its slot on the grid).
"""

import logging
import math
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench import data
from bench.figures import Figures
from bench.rss import Peaks, sampled
from bench.system import System
from tools.client import GraphQLClient

logger = logging.getLogger(__name__)
SECTION = "Delivery lateness (each craft every 1 s)"
PRODUCTS = 4  # crafts are spread over these; the crafts of product n deliver n + 1 units a run
CRAFTS_PER_FACTORY = 100
THREADS = 4
RUNS_READ = 100  # a craft's runs are read with runs(last: 100), the most the API gives
MAX_SECONDS = 90
SETTLE_SECONDS = 120.0
ATTEMPTS = 3
PAUSE_MARGIN = 1.5  # seconds after a craft's last counted slot before it is paused
CREATE = (
    "mutation($f: ID!, $p: ID!, $c: Int!) { createCraft(input: "
    "{factoryId: $f, productId: $p, countPerRun: $c, intervalSeconds: 1, active: false}) { id } }"
)
RESUME = "mutation($id: ID!) { resumeCraft(id: $id) { nextRunAt } }"
PAUSE = "mutation($id: ID!) { pauseCraft(id: $id) { id } }"
RUNS = (
    "query($f: ID!) { factory(id: $f) { crafts { id runs(last: 100) { status scheduledAt finishedAt } } } }"
)


@dataclass
class Craft:
    id: str
    factory_id: str
    product: int
    count: int
    first_slot: datetime | None = None  # once resumed
    paused_at: datetime | None = None  # when its pause was sent


def _call(client: GraphQLClient, query: str, **variables: Any) -> dict[str, Any]:
    """`client.call`, tried again (up to ATTEMPTS times) when the system is too busy to answer."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return client.call(query, **variables)
        except (RuntimeError, httpx.HTTPError) as error:
            if attempt == ATTEMPTS:
                raise
            logger.warning("  attempt %d failed (%s); again", attempt, str(error)[:200])
            time.sleep(attempt)
    raise AssertionError("unreachable")


def _in_threads(admin: GraphQLClient, items: list[Any], work: Any) -> list[Any]:
    """`work(client, item)` for every item, THREADS at a time, each thread with its own client on the ADMIN's
    token (one login: each password check holds tens of MB in the purchase subgraph while it runs)."""
    chunks = [items[n::THREADS] for n in range(THREADS)]

    def run(chunk: list[Any]) -> list[Any]:
        client = GraphQLClient(admin.url, admin.token)
        return [work(client, item) for item in chunk]

    with ThreadPoolExecutor(THREADS) as pool:
        return [result for results in pool.map(run, chunks) for result in results]


def _create(admin: GraphQLClient, product_ids: list[str], crafts: int) -> list[Craft]:
    """`crafts` paused crafts, spread over factories of CRAFTS_PER_FACTORY and over the products."""
    factories = [
        admin.call("mutation($n: String!) { createFactory(name: $n) { id } }", n=f"Works {n}")[
            "createFactory"
        ]["id"]
        for n in range(math.ceil(crafts / CRAFTS_PER_FACTORY))
    ]

    def create(client: GraphQLClient, n: int) -> Craft:
        factory_id, product = factories[n // CRAFTS_PER_FACTORY], n % PRODUCTS
        made = _call(client, CREATE, f=factory_id, p=product_ids[product], c=product + 1)["createCraft"]
        return Craft(made["id"], factory_id, product, product + 1)

    return _in_threads(admin, list(range(crafts)), create)


def _run_for(admin: GraphQLClient, crafts: list[Craft], seconds: float) -> float:
    """Resume every craft, as fast as THREADS clients can, and pause each PAUSE_MARGIN seconds after its first
    `seconds` slots are due; how long resuming them all took."""
    pauses = ThreadPoolExecutor(THREADS)  # first in, first out: resumed first, due first
    clients = threading.local()

    def pause(craft: Craft, due: datetime) -> None:
        if not hasattr(clients, "client"):
            clients.client = GraphQLClient(admin.url, admin.token)
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        craft.paused_at = datetime.now(UTC)
        _call(clients.client, PAUSE, id=craft.id)

    def resume(client: GraphQLClient, craft: Craft) -> None:
        craft.first_slot = _utc(_call(client, RESUME, id=craft.id)["resumeCraft"]["nextRunAt"])
        pauses.submit(pause, craft, craft.first_slot + timedelta(seconds=seconds - 1 + PAUSE_MARGIN))

    started = time.monotonic()
    try:
        _in_threads(admin, crafts, resume)
        resumed_in = time.monotonic() - started
    finally:
        pauses.shutdown(wait=True)
    return resumed_in


def _runs(client: GraphQLClient, factory_ids: set[str]) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Every craft's runs once none is PENDING (or SETTLE_SECONDS have passed); and how many still are."""
    runs: dict[str, list[dict[str, Any]]] = {}
    unsettled, deadline = set(factory_ids), time.monotonic() + SETTLE_SECONDS
    while unsettled:
        for factory_id in sorted(unsettled):
            crafts = _call(client, RUNS, f=factory_id)["factory"]["crafts"]
            runs.update({craft["id"]: craft["runs"] for craft in crafts})
            if all(run["status"] != "PENDING" for craft in crafts for run in craft["runs"]):
                unsettled.discard(factory_id)
        if unsettled and time.monotonic() > deadline:
            break
        if unsettled:
            time.sleep(2)
    pending = sum(run["status"] == "PENDING" for craft_runs in runs.values() for run in craft_runs)
    return runs, pending


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)] if ordered else math.nan


def measure(system: System, figures: Figures, *, crafts: int, seconds: float, peaks: Peaks) -> None:
    """N crafts delivering every second for about `seconds` each, then paused; lateness, slots and stock."""
    if seconds > MAX_SECONDS:
        raise ValueError(f"at most {MAX_SECONDS} s: a craft's runs are read with runs(last: 100)")
    case = f"{crafts} crafts x {seconds:g} s"
    admin = data.admin(system)
    catalog = data.catalog(admin, "Lateness shop", PRODUCTS, 0)
    with sampled(system.pids, peaks):
        started = time.monotonic()
        made = _create(admin, catalog.product_ids, crafts)
        created_in = time.monotonic() - started
        resumed_in = _run_for(admin, made, seconds)
        logger.info(
            "  %d crafts created (paused) in %.1f s, resumed in %.1f s", crafts, created_in, resumed_in
        )
        time.sleep(2)  # a fire already under way when its pause arrived
        runs, pending = _runs(admin, {craft.factory_id for craft in made})
    stock = [
        admin.call("query($p: ID!) { product(id: $p) { stock } }", p=product_id)["product"]["stock"]
        for product_id in catalog.product_ids
    ]
    slots = in_window = 0
    delivered_units = [0] * PRODUCTS
    lateness: list[float] = []
    statuses: Counter[str] = Counter()
    repeated = 0
    for craft in made:
        craft_runs = runs.get(craft.id, [])
        assert craft.paused_at is not None and craft.first_slot is not None
        # Slots due at least one interval before the pause was sent: a fire under way when the pause came
        # is not counted as skipped.
        cutoff = craft.paused_at - timedelta(seconds=1)
        if cutoff >= craft.first_slot:
            slots += math.floor((cutoff - craft.first_slot).total_seconds()) + 1
        scheduled = [_utc(run["scheduledAt"]) for run in craft_runs]
        in_window += sum(moment <= cutoff for moment in scheduled)
        repeated += len(scheduled) - len(set(scheduled))
        for run in craft_runs:
            statuses[run["status"]] += 1
            if run["status"] == "DELIVERED":
                delivered_units[craft.product] += craft.count
                lateness.append((_utc(run["finishedAt"]) - _utc(run["scheduledAt"])).total_seconds())
    lateness.sort()
    truncated = sum(len(runs.get(craft.id, [])) >= RUNS_READ for craft in made)
    if truncated:
        figures.notes.append(
            f"{SECTION}, {case}: {truncated} crafts had {RUNS_READ} runs or more, older not read"
        )
    total = sum(statuses.values())
    figures.add(SECTION, case, "lateness median s", statistics.median(lateness) if lateness else math.nan)
    figures.add(SECTION, case, "lateness p99 s", _percentile(lateness, 0.99))
    figures.add(SECTION, case, "lateness worst s", lateness[-1] if lateness else math.nan)
    figures.add(SECTION, case, "slots (N x S nominal)", crafts * seconds)
    figures.add(SECTION, case, "slots due while active", slots)
    figures.add(SECTION, case, "runs in those slots", in_window)
    figures.add(SECTION, case, "slots skipped", slots - in_window)
    figures.add(SECTION, case, "runs (all)", total)
    figures.add(SECTION, case, "DELIVERED", statuses["DELIVERED"])
    figures.add(SECTION, case, "FAILED", statuses["FAILED"])
    figures.add(SECTION, case, "PENDING after settling", pending)
    figures.add(
        SECTION, case, "every run DELIVERED, once?", float(statuses["DELIVERED"] == total and not repeated)
    )
    figures.add(SECTION, case, "stock = count x DELIVERED runs?", float(stock == delivered_units))
    figures.add(SECTION, case, "seconds to resume them all (created paused)", resumed_in)
    logger.info(
        "  %s: %d runs for %d slots, %s, lateness median %.2f s p99 %.2f s, stock %s vs %s",
        case,
        in_window,
        slots,
        dict(statuses),
        figures.values[(SECTION, case, "lateness median s")],
        figures.values[(SECTION, case, "lateness p99 s")],
        stock,
        delivered_units,
    )
