"""Delivery lateness: N crafts firing every second for S seconds, through the real router and subgraphs.

Lateness of a run = finishedAt (the shop confirmed the delivery) - scheduledAt (its slot on the grid).
Usage: python -m bench.lateness [--crafts 100] [--seconds 30]
"""

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from tools.client import GraphQLClient
from tools.stack import Stack

logger = logging.getLogger("bench.lateness")


def _seconds(later: str, earlier: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()


def measure(crafts: int, seconds: float) -> dict[str, Any]:
    """Run the scenario on a fresh stack; the figures."""
    with tempfile.TemporaryDirectory(prefix="bench-lateness-") as data_dir:
        stack = Stack.on_free_ports(Path(data_dir))
        with stack.running():
            client = GraphQLClient(stack.router_url)
            stack.create_admin("bench", "bench-password")
            client.login("bench", "bench-password")
            shop = client.call(
                'mutation { createShop(input: {name: "Bench", address: "-", phone: "-"}) { id } }'
            )
            shop_id = shop["createShop"]["id"]
            product = client.call(
                'mutation($s: ID!) { addProduct(input: {shopId: $s, name: "Widget", price: 1}) { id } }',
                s=shop_id,
            )
            product_id = product["addProduct"]["id"]
            factory_id = client.call('mutation { createFactory(name: "Bench works") { id } }')[
                "createFactory"
            ]["id"]
            create = (
                "mutation($f: ID!, $p: ID!) { createCraft(input: "
                "{factoryId: $f, productId: $p, countPerRun: 1, intervalSeconds: 1}) { id } }"
            )
            craft_ids = [
                client.call(create, f=factory_id, p=product_id)["createCraft"]["id"] for _ in range(crafts)
            ]
            time.sleep(seconds)
            for craft_id in craft_ids:
                client.call("mutation($id: ID!) { pauseCraft(id: $id) { id } }", id=craft_id)
            runs: list[dict[str, Any]] = []
            for _ in range(120):
                time.sleep(1)
                listing = client.call(
                    "query($f: ID!) { factory(id: $f) { crafts { "
                    "runs(last: 100) { status scheduledAt finishedAt } } } }",
                    f=factory_id,
                )
                runs = [run for craft in listing["factory"]["crafts"] for run in craft["runs"]]
                if all(run["status"] != "PENDING" for run in runs):
                    break
            stock = client.call("query($p: ID!) { product(id: $p) { stock } }", p=product_id)["product"][
                "stock"
            ]
    delivered = [run for run in runs if run["status"] == "DELIVERED"]
    lateness = sorted(_seconds(run["finishedAt"], run["scheduledAt"]) for run in delivered)
    return {
        "crafts": crafts,
        "seconds": seconds,
        "runs": len(runs),
        "delivered": len(delivered),
        "failed": sum(run["status"] == "FAILED" for run in runs),
        "pending": sum(run["status"] == "PENDING" for run in runs),
        "stock": stock,
        "stock_matches_delivered": stock == len(delivered),
        "lateness_median_s": round(statistics.median(lateness), 3) if lateness else None,
        "lateness_p95_s": round(lateness[int(0.95 * (len(lateness) - 1))], 3) if lateness else None,
        "lateness_max_s": round(lateness[-1], 3) if lateness else None,
    }


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="python -m bench.lateness")
    parser.add_argument("--crafts", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    logger.info(json.dumps(measure(args.crafts, args.seconds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
