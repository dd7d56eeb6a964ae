"""Live subscriptions through the router (WebSocket, graphql-transport-ws), three figures:

- fan-out: one delivery seen by 1,000 subscribers to its product's stock (a connection each): from the
  delivery's commit (its `deliveredAt`, stamped in its transaction) to the last subscriber's event, over 20
  deliveries;
- idle: 5,000 subscriptions held open (250 connections of 20): the memory they add across all four processes,
  and the flagship's requests/s while they are open against none open (before and after);
- sustained: events per second reaching 100 subscribers to the stock of the products 1,000 crafts deliver to
  every second, each subscriber's stock never going back.

The subscribers run on an event loop of their own in a background thread, so they keep reading (and answering
the router's pings) while wrk loads the router.
"""

import asyncio
import json
import logging
import statistics
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import websockets
from websockets.asyncio.client import ClientConnection

from bench import data, flagship, lateness
from bench.cpu import thread_cpu_seconds, tree_cpu_seconds
from bench.figures import Figures
from bench.load import wrk
from bench.rss import tree_rss_mib
from bench.system import System
from client.service_tree_client import DeliverInput
from tools.client import SyncGraph, socket_url
from tools.polling import poll

logger = logging.getLogger(__name__)
SECTION = "Live subscriptions through the router"
STOCK = "subscription($ids: [ID!]!) { stockChanged(productIds: $ids) { id stock } }"
FANOUT_SUBSCRIBERS, DELIVERIES = 1_000, 20
IDLE_CONNECTIONS, IDLE_PER_CONNECTION = 250, 20
IDLE_SUBSCRIPTIONS = IDLE_CONNECTIONS * IDLE_PER_CONNECTION
FANOUT_CASE = f"one delivery to {FANOUT_SUBSCRIBERS} subscribers, {DELIVERIES} deliveries"
IDLE_CASE = f"{IDLE_SUBSCRIPTIONS} idle subscriptions ({IDLE_CONNECTIONS} connections)"
SUSTAINED_SUBSCRIBERS, SUSTAINED_CRAFTS, SUSTAINED_SECONDS = 100, 1_000, 30.0
OPEN_CONCURRENTLY = 50  # connections opened at once
# The router's limits, raised for the benchmark's one client address (the defaults are per client), and its
# heap, for 5,000 subscriptions (some 35 KB each) beside the flagship's load.
ENV = {
    "ROUTER_CONNECTIONS_PER_ADDRESS": "10000",
    "ROUTER_MAX_SUBSCRIPTIONS": "10000",
    "ROUTER_DEDUPE": "0",
    "PURCHASE_ACCESS_TOKEN_TTL_SECONDS": "7200",  # the customers' tokens outlive the section
    "NODE_OPTIONS": "--max-old-space-size=512",
}
T = TypeVar("T")


@dataclass
class Subscription:
    """One stockChanged subscription: each event's product, stock and arrival time, and its errors."""

    events: list[tuple[str, int, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Subscribers:
    """graphql-transport-ws connections to the router, each with stockChanged subscriptions, read on a loop
    of their own."""

    def __init__(self, url: str) -> None:
        self.url = socket_url(url)
        self.subscriptions: list[Subscription] = []
        # Arrival times of the events carrying each stock value, of every subscription: what the fan-out waits
        # for, counted as they arrive (scanning every subscription's events instead, many times a second from
        # another thread, took the reader's CPU and held the GIL it needs).
        self.arrivals: dict[int, list[float]] = defaultdict(list)
        self._connections: list[ClientConnection] = []
        self._readers: list[asyncio.Task[None]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="subscribers", daemon=True)
        self._thread.start()

    def cpu_seconds(self) -> float:
        """CPU seconds the subscribers' thread has taken (reading, parsing, recording every event)."""
        assert self._thread.native_id is not None
        return thread_cpu_seconds(self._thread.native_id)

    def run(self, call: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(call, self._loop).result()

    def open(self, connections: int, per_connection: int, product_ids: list[str]) -> None:
        """Open `connections` connections with `per_connection` subscriptions each; returns once every
        subscription has its first event (the products as they are)."""
        self.run(self._open_all(connections, per_connection, product_ids))
        expected = len(self.subscriptions)
        got = poll(self.started, lambda n: n >= expected, within=120, interval=0.2)
        if got < expected:
            raise RuntimeError(f"{got} of {expected} subscriptions started")

    def started(self) -> int:
        return sum(bool(s.events) for s in self.subscriptions)

    def errors(self) -> list[str]:
        return [error for s in self.subscriptions for error in s.errors]

    def close(self) -> None:
        """Close every connection (the router ends their subscriptions) and stop the loop."""
        self.run(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    async def _open_all(self, connections: int, per_connection: int, product_ids: list[str]) -> None:
        gate = asyncio.Semaphore(OPEN_CONCURRENTLY)

        async def one() -> None:
            async with gate:
                await self._open(per_connection, product_ids)

        await asyncio.gather(*(one() for _ in range(connections)))

    async def _open(self, count: int, product_ids: list[str]) -> None:
        connection = await websockets.connect(
            self.url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")], open_timeout=60
        )
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await connection.recv())["type"] == "connection_ack"
        mine: dict[str, Subscription] = {}
        for _ in range(count):
            key = uuid.uuid4().hex
            mine[key] = Subscription()
            payload = {"query": STOCK, "variables": {"ids": product_ids}}
            await connection.send(json.dumps({"type": "subscribe", "id": key, "payload": payload}))
        self.subscriptions += mine.values()
        self._connections.append(connection)
        self._readers.append(asyncio.create_task(self._read(connection, mine)))

    async def _read(self, connection: ClientConnection, mine: dict[str, Subscription]) -> None:
        try:
            async for raw in connection:
                arrived = time.time()
                message = json.loads(raw)
                subscription = mine.get(message.get("id", ""))
                if subscription is None:
                    if message.get("type") == "ping":
                        await connection.send(json.dumps({"type": "pong"}))
                    continue
                payload = message.get("payload") or {}
                if message["type"] == "next" and not payload.get("errors"):
                    product = payload["data"]["stockChanged"]
                    subscription.events.append((product["id"], product["stock"], arrived))
                    self.arrivals[product["stock"]].append(arrived)
                elif message["type"] in ("next", "error"):
                    errors = payload.get("errors", payload) if isinstance(payload, dict) else payload
                    subscription.errors += [str(e.get("extensions", {}).get("code")) for e in errors]
                elif message["type"] == "complete":
                    subscription.errors.append("completed")
        except websockets.ConnectionClosed:
            pass

    async def _close(self) -> None:
        await asyncio.gather(
            *(connection.close() for connection in self._connections), return_exceptions=True
        )
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure_fanout(system: System, figures: Figures, admin: SyncGraph) -> None:
    """DELIVERIES deliveries of one product, each to FANOUT_SUBSCRIBERS subscribers of its stock."""
    catalog = data.catalog(admin, "Live fan-out shop", 1, 0)
    product = catalog.product_ids[0]
    subscribers = Subscribers(system.router_url)
    try:
        subscribers.open(FANOUT_SUBSCRIBERS, 1, [product])
        lasts, medians = [], []
        cpu_before = _cpu(system, subscribers)
        for delivery in range(1, DELIVERIES + 1):
            answer = admin.run(
                admin.api.deliver(input=DeliverInput(product_id=product, count=1, key=f"fanout-{delivery}"))
            ).deliver
            committed = answer.delivered_at.timestamp()

            def arrivals(stock: int = delivery) -> list[float]:
                return list(subscribers.arrivals[stock])

            seen = poll(arrivals, lambda found: len(found) >= FANOUT_SUBSCRIBERS, within=30, interval=0.01)
            if len(seen) < FANOUT_SUBSCRIBERS:
                raise RuntimeError(
                    f"delivery {delivery} reached {len(seen)} of {FANOUT_SUBSCRIBERS} subscribers"
                )
            lasts.append((max(seen) - committed) * 1000)
            medians.append((statistics.median(seen) - committed) * 1000)
        cpu_after = _cpu(system, subscribers)
        case = FANOUT_CASE
        figures.add(SECTION, case, "commit to last subscriber p50 ms", _percentile(lasts, 0.5))
        figures.add(SECTION, case, "commit to last subscriber p99 ms", _percentile(lasts, 0.99))
        figures.add(SECTION, case, "commit to median subscriber p50 ms", statistics.median(medians))
        # What one delivery and its fan-out cost each process (the delivery's own mutation included).
        for name, seconds in cpu_after.items():
            figures.add(
                SECTION,
                case,
                f"CPU ms per delivery, {name}",
                (seconds - cpu_before[name]) * 1000 / DELIVERIES,
            )
        if subscribers.errors():
            figures.notes.append(f"{SECTION}, fan-out: errors {sorted(set(subscribers.errors()))}")
    finally:
        subscribers.close()


def _cpu(system: System, subscribers: Subscribers) -> dict[str, float]:
    """CPU seconds so far of each process of the system, and of the benchmark's subscribers."""
    seconds = {name: tree_cpu_seconds(pid) for name, pid in system.pids.items()}
    return {**seconds, "benchmark's subscribers": subscribers.cpu_seconds()}


def _rss(system: System) -> float:
    return sum(tree_rss_mib(pid) for pid in system.pids.values())


def measure_idle(
    system: System, figures: Figures, admin: SyncGraph, *, seconds: float, warmup: float
) -> None:
    """IDLE_CONNECTIONS x IDLE_PER_CONNECTION subscriptions held open: memory added, and the flagship's
    requests/s with them against without."""
    catalog = data.catalog(admin, "Live idle shop", flagship.LINES, 100_000)
    customer = flagship.prepare(system, catalog, [1])[1]
    page, tokens = {"first": 50}, [customer.token]
    url = system.router_url

    def flagship_rate() -> float:
        return wrk(
            url, flagship.FLAGSHIP, variables=page, connections=10, seconds=seconds, tokens=tokens
        ).per_second

    if warmup:
        wrk(url, flagship.FLAGSHIP, variables=page, connections=10, seconds=warmup, tokens=tokens)
    before = flagship_rate()
    memory_before = _rss(system)
    subscribers = Subscribers(url)
    try:
        subscribers.open(IDLE_CONNECTIONS, IDLE_PER_CONNECTION, [catalog.product_ids[0]])
        memory_open = _rss(system)
        during = flagship_rate()
        memory_after_load = _rss(system)
        ended = subscribers.errors()
    finally:
        subscribers.close()
    after = flagship_rate()
    case = IDLE_CASE
    figures.add(SECTION, case, "memory added, all four processes, MiB", memory_open - memory_before)
    figures.add(SECTION, case, "memory added after the flagship load, MiB", memory_after_load - memory_before)
    figures.add(SECTION, case, "flagship requests/s, none open", (before + after) / 2)
    figures.add(SECTION, case, "flagship requests/s, open", during)
    figures.add(SECTION, case, "flagship requests/s open ÷ none", during / ((before + after) / 2))
    figures.add(SECTION, case, "every subscription held?", float(not ended))
    if ended:
        figures.notes.append(f"{SECTION}, idle: {len(ended)} ended: {sorted(set(ended))}")


def measure_sustained(system: System, figures: Figures, admin: SyncGraph) -> None:
    """SUSTAINED_SUBSCRIBERS subscribers to the products SUSTAINED_CRAFTS crafts deliver to every second."""
    catalog = data.catalog(admin, "Live sustained shop", lateness.PRODUCTS, 0)
    crafts = lateness.create_crafts(admin, catalog.product_ids, SUSTAINED_CRAFTS)
    subscribers = Subscribers(system.router_url)
    try:
        subscribers.open(SUSTAINED_SUBSCRIBERS, 1, catalog.product_ids)
        lateness.in_threads(crafts, lambda craft: admin.run(admin.api.resume_craft(id=craft.id)))
        started = [len(s.events) for s in subscribers.subscriptions]
        begun = time.monotonic()
        time.sleep(SUSTAINED_SECONDS)  # the measurement window: events are counted over it
        window = time.monotonic() - begun
        counts = [len(s.events) - n for s, n in zip(subscribers.subscriptions, started, strict=True)]
        lateness.in_threads(crafts, lambda craft: admin.run(admin.api.pause_craft(id=craft.id)))
        ordered = all(_never_back(s.events) for s in subscribers.subscriptions)
        errors = subscribers.errors()
    finally:
        subscribers.close()
    case = f"{SUSTAINED_SUBSCRIBERS} subscribers, {SUSTAINED_CRAFTS} crafts every 1 s, {window:.0f} s"
    figures.add(SECTION, case, "events/s to all subscribers", sum(counts) / window)
    figures.add(SECTION, case, "events/s per subscriber, median", statistics.median(counts) / window)
    figures.add(SECTION, case, "stock never went back?", float(ordered))
    figures.add(SECTION, case, "no subscription ended?", float(not errors))
    if errors:
        figures.notes.append(f"{SECTION}, sustained: {len(errors)} ended: {sorted(set(errors))}")


def _never_back(events: list[tuple[str, int, float]]) -> bool:
    """Each product's stock, as one subscriber saw it, only grows (deliveries only add)."""
    last: dict[str, int] = {}
    for product, stock, _ in events:
        if stock < last.get(product, stock):
            return False
        last[product] = stock
    return True


def measure(system: System, figures: Figures, *, seconds: float, warmup: float) -> None:
    """The three live figures on one system."""
    with data.admin(system) as admin:
        logger.info("  fan-out: %d subscribers, %d deliveries", FANOUT_SUBSCRIBERS, DELIVERIES)
        measure_fanout(system, figures, admin)
        logger.info("  idle: %d subscriptions", IDLE_CONNECTIONS * IDLE_PER_CONNECTION)
        measure_idle(system, figures, admin, seconds=seconds, warmup=warmup)
        logger.info("  sustained: %d subscribers, %d crafts", SUSTAINED_SUBSCRIBERS, SUSTAINED_CRAFTS)
        measure_sustained(system, figures, admin)
