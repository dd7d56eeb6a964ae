"""Delivery lateness: N crafts each delivering every second for S seconds through the router, then paused.

The crafts are created paused, then resumed as fast as the API allows, so that all N deliver at once.

Lateness of a run = finishedAt (the shop confirmed the delivery) - scheduledAt (its slot on the grid).
"""

import logging
import math
import statistics
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import httpx

from bench import data
from bench.figures import Figures
from bench.rss import Peaks, sampled
from bench.system import System
from client.service_tree_client import CreateCraftInput, FactoryRunsFactoryCraftsRuns, GraphQLClientError
from tools.client import SyncGraph
from tools.polling import poll

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


@dataclass
class Craft:
    id: str
    factory_id: str
    product: int
    count: int
    first_slot: datetime | None = None  # once resumed
    paused_at: datetime | None = None  # when its pause was sent


T = TypeVar("T")


def _call(admin: SyncGraph, operation: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`admin.run(operation())`, tried again (up to ATTEMPTS times) when the system is too busy to answer."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return admin.run(operation())
        except (GraphQLClientError, httpx.HTTPError) as error:
            if attempt == ATTEMPTS:
                raise
            logger.warning("  attempt %d failed (%s); again", attempt, str(error)[:200])
            time.sleep(attempt)
    raise AssertionError("unreachable")


def in_threads(items: list[Any], work: Any) -> list[Any]:
    """`work(item)` for every item, THREADS at a time (all on the ADMIN's one login: each password check
    holds tens of MB in the purchase subgraph while it runs)."""
    chunks = [items[n::THREADS] for n in range(THREADS)]

    def run(chunk: list[Any]) -> list[Any]:
        return [work(item) for item in chunk]

    with ThreadPoolExecutor(THREADS) as pool:
        return [result for results in pool.map(run, chunks) for result in results]


def create_crafts(admin: SyncGraph, product_ids: list[str], crafts: int) -> list[Craft]:
    """`crafts` paused crafts, spread over factories of CRAFTS_PER_FACTORY and over the products."""
    factories = [
        admin.run(admin.api.create_factory(name=f"Works {n}")).create_factory.id
        for n in range(math.ceil(crafts / CRAFTS_PER_FACTORY))
    ]

    def create(n: int) -> Craft:
        factory_id, product = factories[n // CRAFTS_PER_FACTORY], n % PRODUCTS
        craft = CreateCraftInput(
            factory_id=factory_id,
            product_id=product_ids[product],
            count_per_run=product + 1,
            interval_seconds=1,
            active=False,
        )
        made = _call(admin, lambda: admin.api.create_craft(input=craft)).create_craft
        return Craft(made.id, factory_id, product, product + 1)

    return in_threads(list(range(crafts)), create)


def _run_for(admin: SyncGraph, crafts: list[Craft], seconds: float) -> float:
    """Resume every craft, as fast as THREADS clients can, and pause each PAUSE_MARGIN seconds after its first
    `seconds` slots are due; how long resuming them all took."""
    pauses = ThreadPoolExecutor(THREADS)  # first in, first out: resumed first, due first

    def pause(craft: Craft, due: datetime) -> None:
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        craft.paused_at = datetime.now(UTC)
        _call(admin, lambda: admin.api.pause_craft(id=craft.id))

    def resume(craft: Craft) -> None:
        next_run = _call(admin, lambda: admin.api.resume_craft(id=craft.id)).resume_craft.next_run_at
        if next_run is None:
            raise RuntimeError(f"craft {craft.id} was resumed without a next run")
        craft.first_slot = _utc(next_run)
        pauses.submit(pause, craft, craft.first_slot + timedelta(seconds=seconds - 1 + PAUSE_MARGIN))

    started = time.monotonic()
    try:
        in_threads(crafts, resume)
        resumed_in = time.monotonic() - started
    finally:
        pauses.shutdown(wait=True)
    return resumed_in


Runs = list[FactoryRunsFactoryCraftsRuns]


def _runs(admin: SyncGraph, factory_ids: set[str]) -> tuple[dict[str, Runs], int]:
    """Every craft's runs once none is PENDING and two reads in a row (2 s apart) find as many, so that a fire
    already under way when its pause arrived is counted (or SETTLE_SECONDS have passed); and how many are
    still PENDING."""
    runs: dict[str, Runs] = {}
    totals: list[int] = []

    def settled() -> bool:
        for factory_id in sorted(factory_ids):
            factory = _call(admin, partial(admin.api.factory_runs, id=factory_id)).factory
            if factory is None:
                raise RuntimeError(f"factory {factory_id} is gone")
            runs.update({craft.id: craft.runs for craft in factory.crafts})
        totals.append(sum(len(craft_runs) for craft_runs in runs.values()))
        pending = any(run.status == "PENDING" for craft_runs in runs.values() for run in craft_runs)
        return not pending and len(totals) > 1 and totals[-1] == totals[-2]

    poll(settled, bool, within=SETTLE_SECONDS, interval=2)
    pending = sum(run.status == "PENDING" for craft_runs in runs.values() for run in craft_runs)
    return runs, pending


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)] if ordered else math.nan


def _stock(admin: SyncGraph, product_id: str) -> int:
    product = admin.run(admin.api.product_stock(id=product_id)).product
    if product is None:
        raise RuntimeError(f"product {product_id} is gone")
    return product.stock


def measure(system: System, figures: Figures, *, crafts: int, seconds: float, peaks: Peaks) -> None:
    """N crafts delivering every second for about `seconds` each, then paused; lateness, slots and stock."""
    if seconds > MAX_SECONDS:
        raise ValueError(f"at most {MAX_SECONDS} s: a craft's runs are read with runs(last: 100)")
    case = f"{crafts} crafts x {seconds:g} s"
    admin = data.admin(system)
    catalog = data.catalog(admin, "Lateness shop", PRODUCTS, 0)
    with sampled(system.pids, peaks):
        started = time.monotonic()
        made = create_crafts(admin, catalog.product_ids, crafts)
        created_in = time.monotonic() - started
        resumed_in = _run_for(admin, made, seconds)
        logger.info(
            "  %d crafts created (paused) in %.1f s, resumed in %.1f s", crafts, created_in, resumed_in
        )
        runs, pending = _runs(admin, {craft.factory_id for craft in made})
    stock = [_stock(admin, product_id) for product_id in catalog.product_ids]
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
        scheduled = [_utc(run.scheduled_at) for run in craft_runs]
        in_window += sum(moment <= cutoff for moment in scheduled)
        repeated += len(scheduled) - len(set(scheduled))
        for run in craft_runs:
            statuses[run.status.value] += 1
            if run.status == "DELIVERED" and run.finished_at is not None:
                delivered_units[craft.product] += craft.count
                lateness.append((_utc(run.finished_at) - _utc(run.scheduled_at)).total_seconds())
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
