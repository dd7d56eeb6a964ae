"""Cost: CPU milliseconds per request of each process (router, each subgraph, PostgreSQL) for the flagship,
the one-row read and `buy`, next to floors measured in the same run: a bare Hive Gateway (none of our
plugins) answering the same flagship query, and each process's `{ __typename }`."""

import json
import logging
import math
import os
import statistics
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench import buy, data, flagship
from bench.ceilings import ONE_ROW, TYPENAME
from bench.cpu import ALL, Cost, measured
from bench.figures import Figures
from bench.load import Load, wrk
from bench.system import System
from tools.polling import poll
from tools.processes import ending_with_parent, stop
from tools.stack import ROUTER_NODE_OPTIONS, free_port

logger = logging.getLogger(__name__)
CONFIG = Path(__file__).resolve().with_name("bare-gateway.config.mjs")
BARE = "bare gateway"
PURCHASES = (1, 50)  # the flagship's customers: one page of 1 check and one of 50 (first 50)
FIRST = 50
CONNECTIONS = 10
CPU = "CPU ms/request"


ROW = 'one row, { shop(id: "1") { name } } at the shop'
BUY = f"buy through the router ({buy.LINES} lines)"
PROCESSES = ("router", "purchase", "shop", "factory", "postgres", ALL)
Key = tuple[str, str, str]


def section(postgres: bool) -> str:
    """The report's section for one backend."""
    return f"CPU per request, {'PostgreSQL (2 processes per subgraph)' if postgres else 'SQLite'}"


def flagship_case(purchases: int) -> str:
    """How the report names the flagship for a customer with `purchases` purchases."""
    return f"flagship, {purchases} purchase{'s' if purchases != 1 else ''} (first {FIRST})"


def _figure(values: Mapping[Key, list[float]], where: str, case: str, starting: str) -> float | None:
    """The median of the first figure of `case` whose name starts with `starting`."""
    for key, found in values.items():
        if key[:2] == (where, case) and key[2].startswith(starting):
            real = [value for value in found if not math.isnan(value)]
            return statistics.median(real) if real else None
    return None


def _cell(cost: float | None, floor: float | None) -> str:
    if cost is None:
        return "-"
    return f"{cost:.2f} ({floor:.2f}, {cost / floor:.2f}x)" if floor else f"{cost:.2f}"


def summary(values: Mapping[Key, list[float]]) -> list[str]:
    """Per backend measured, one table of each process's cost per case: `cost (floor, cost ÷ floor)`."""
    cases = [*(flagship_case(purchases) for purchases in PURCHASES), ROW, BUY]
    lines: list[str] = []
    for postgres in (False, True):
        where = section(postgres)
        if not any(key[0] == where for key in values):
            continue
        lines += ["", f"### {where}: CPU ms/request (floor, cost ÷ floor), medians", ""]
        lines += ["| process | " + " | ".join(cases) + " |", "|" + "---|" * (len(cases) + 1)]
        for name in PROCESSES:
            row = [
                _cell(
                    _figure(values, where, f"{case}: {name}", CPU),
                    _figure(values, where, f"{case}: {name}", "floor"),
                )
                for case in cases
            ]
            if any(text != "-" for text in row):
                lines.append(f"| {name} | " + " | ".join(row) + " |")
        rates = [_figure(values, where, case, "requests/s") for case in cases]
        lines.append("| requests/s | " + " | ".join("-" if r is None else f"{r:.0f}" for r in rates) + " |")
    return lines


@contextmanager
def bare_gateway(system: System) -> Iterator[tuple[str, int]]:
    """Hive Gateway on the tree's supergraph and the system's subgraphs, with none of our plugins, during the
    block: its /graphql URL and PID."""
    root, port = system.tree.root, free_port()
    subgraphs = {name: url for name, url in system.urls.items() if name != "router"}
    argv = [str(root / "router" / "node_modules" / ".bin" / "hive-gateway"), "supergraph"]
    argv += [str(root / "schema" / "supergraph.graphql"), "-c", str(CONFIG), "--host", "127.0.0.1"]
    argv += ["--port", str(port)]
    env = {**os.environ, "BENCH_SUBGRAPH_URLS": json.dumps(subgraphs), "NODE_OPTIONS": ROUTER_NODE_OPTIONS}
    with open(system.data_dir / "bare-gateway.log", "w") as log:
        process = subprocess.Popen(
            ending_with_parent(argv), cwd=root / "router", env=env, stdout=log, stderr=subprocess.STDOUT
        )

    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/readiness", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        poll(lambda: process.poll() is not None or ready(), bool, within=60)
        if process.poll() is not None or not ready():
            raise RuntimeError(f"the bare gateway did not start; see {system.data_dir / 'bare-gateway.log'}")
        yield f"http://127.0.0.1:{port}/graphql", process.pid
    finally:
        stop(process)


def _run(
    pids: dict[str, int],
    url: str,
    query: str,
    *,
    warmup: float,
    seconds: float,
    **request: Any,
) -> Cost:
    """A warm-up run, then one wrk run at CONNECTIONS measured by CPU time; `request` is the rest of what wrk
    sends (variables, tokens, thread_per_connection), passed on as it is."""

    def once(length: float) -> Load:
        return wrk(url, query, connections=CONNECTIONS, seconds=length, **request)

    if warmup:
        once(warmup)
    return measured(pids, lambda: once(seconds))


Floors = dict[str, tuple[str, float]]  # process -> (what the floor is, its CPU ms per request)


def _record(figures: Figures, where: str, case: str, cost: Cost, floors: Floors) -> None:
    """Each process's cost, and its floor (what, ms) and cost ÷ floor where it has one."""
    figures.add_load(where, case, cost.load)
    for name, ms in cost.ms.items():
        figures.add(where, f"{case}: {name}", CPU, ms)
        if name in floors:
            what, floor = floors[name]
            figures.add(where, f"{case}: {name}", f"floor: {what}, ms", floor)
            figures.add(where, f"{case}: {name}", "cost ÷ floor", ms / floor if floor else float("nan"))


def measure(system: System, figures: Figures, *, postgres: bool, seconds: float, warmup: float) -> None:
    """Floors first (each process's `{ __typename }`), then the flagship next to the bare gateway, the one-row
    read and `buy`, each after a warm-up, at CONNECTIONS connections."""
    where = section(postgres)
    admin = data.admin(system)
    catalog = data.catalog(admin, "Flagship shop", flagship.LINES, 100_000)  # shop id 1, read by ONE_ROW
    customers = flagship.prepare(system, catalog, list(PURCHASES))
    selling = data.catalog(admin, "Buy shop", buy.LINES, buy.STOCK)
    buyers = data.customers(admin, "buyer", CONNECTIONS)
    pids = system.pids
    typename: Floors = {}
    for name in system.urls:
        cost = _run(pids, system.urls[name], TYPENAME, warmup=warmup, seconds=seconds)
        typename[name] = ("{ __typename }", cost.ms[name])
        figures.add_load(where, f"{{ __typename }} at {name}", cost.load)
        figures.add(where, f"{{ __typename }} at {name}", CPU, cost.ms[name])
    with bare_gateway(system) as (bare_url, bare_pid):
        bare_pids = {**{name: pid for name, pid in pids.items() if name != "router"}, BARE: bare_pid}
        for purchases, customer in customers.items():
            case = flagship_case(purchases)
            page, tokens = {"first": FIRST}, [customer.token]
            for url in (system.router_url, bare_url):
                flagship.check_answer(url, customer, purchases, FIRST)
            ours = _run(
                pids,
                system.router_url,
                flagship.FLAGSHIP,
                variables=page,
                tokens=tokens,
                warmup=warmup,
                seconds=seconds,
            )
            bare = _run(
                bare_pids,
                bare_url,
                flagship.FLAGSHIP,
                variables=page,
                tokens=tokens,
                warmup=warmup,
                seconds=seconds,
            )
            floors = {**typename, "router": ("bare gateway, same query", bare.ms[BARE])}
            floors[ALL] = ("all processes with the bare gateway", bare.ms[ALL])
            _record(figures, where, case, ours, floors)
            _record(figures, where, f"{case}, {BARE}", bare, {})
    row = _run(pids, system.urls["shop"], ONE_ROW, warmup=warmup, seconds=seconds)
    shop_floor = {"shop": typename["shop"]}
    _record(figures, where, ROW, row, shop_floor)
    # One customer per connection, as bench/buy.py does; the outbox's work after wrk stops is not counted.
    bought = _run(
        pids,
        system.router_url,
        data.BUY,
        variables=data.variables(selling.order(buy.LINES)),
        tokens=[buyer.token for buyer in buyers],
        thread_per_connection=True,
        warmup=warmup,
        seconds=seconds,
    )
    _record(figures, where, BUY, bought, typename)
