"""The flagship query through the router: cost with 1 and with 50 purchases, in one run.

Router deduplication is off, so every request reaches the subgraphs. Usage: python -m bench.flagship
"""

import json
import logging
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tools.client import GraphQLClient
from tools.stack import Stack

logger = logging.getLogger("bench.flagship")
FLAGSHIP = """query MyPurchases { me { login purchases(first: 50) { totalCount nodes {
  name payment total createdAt userCategory { name }
  check { number createdAt shop { name address }
    lines { quantity unitPrice product { name category { name } } } } } } } }"""
REQUESTS = 200
CONCURRENCY = 8


def _customer(url: str, login: str, purchases: int, shop_id: str, product_ids: list[str]) -> GraphQLClient:
    client = GraphQLClient(url)
    payload = client.call(
        "mutation($i: RegisterInput!) { register(input: $i) { token } }",
        i={"login": login, "password": "bench-password", "firstName": "B", "secondName": "B"},
    )
    client.token = payload["register"]["token"]
    items = [{"productId": product_id, "quantity": 1} for product_id in product_ids]
    order = {"shopId": shop_id, "items": items, "payment": "CARD", "purchaseName": "bench"}
    for _ in range(purchases):
        client.call("mutation($i: BuyInput!) { buy(input: $i) { id } }", i=order)
    return client


def _measure(client: GraphQLClient) -> dict[str, float]:
    latencies = []
    for _ in range(REQUESTS // 4):  # sequential: latency
        started = time.perf_counter()
        client.call(FLAGSHIP)
        latencies.append(time.perf_counter() - started)
    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:  # concurrent: throughput
        list(pool.map(lambda _: client.call(FLAGSHIP), range(REQUESTS)))
    elapsed = time.perf_counter() - started
    return {
        "median_ms": round(statistics.median(latencies) * 1000, 1),
        "requests_per_s": round(REQUESTS / elapsed, 1),
    }


def measure() -> dict[str, Any]:
    """Run the scenario on a fresh stack; the figures."""
    with tempfile.TemporaryDirectory(prefix="bench-flagship-") as data_dir:
        stack = Stack.on_free_ports(Path(data_dir), ROUTER_DEDUPE="0", FACTORY_SCHEDULER_ENABLED="false")
        with stack.running():
            admin = GraphQLClient(stack.router_url)
            stack.create_admin("bench", "bench-password")
            admin.login("bench", "bench-password")
            shop_id = admin.call(
                'mutation { createShop(input: {name: "B", address: "-", phone: "-"}) { id } }'
            )["createShop"]["id"]
            category = admin.call(
                'mutation($s: ID!) { createCategory(shopId: $s, name: "C") { id } }', s=shop_id
            )
            add = "mutation($i: AddProductInput!) { addProduct(input: $i) { id } }"
            product_ids = [
                admin.call(
                    add,
                    i={
                        "shopId": shop_id,
                        "name": f"P{n}",
                        "price": 100,
                        "stock": 100_000,
                        "categoryId": category["createCategory"]["id"],
                    },
                )["addProduct"]["id"]
                for n in range(3)
            ]
            one = _customer(stack.router_url, "one", 1, shop_id, product_ids)
            fifty = _customer(stack.router_url, "fifty", 50, shop_id, product_ids)
            small, large = _measure(one), _measure(fifty)
    ratio = round(large["median_ms"] / small["median_ms"], 2)
    return {"1 purchase": small, "50 purchases": large, "ratio_median_50_to_1": ratio}


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logger.info(json.dumps(measure(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
