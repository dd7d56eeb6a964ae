"""`make run`: migrate, seed demo data on the first start, start every process, stop them all on Ctrl-C."""

import argparse
import asyncio
import hashlib
import logging
import os
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from types import FrameType

from client.service_tree_client import BuyInput, BuyItem, Payment
from subgraphs import registry
from subgraphs._common.db import Database, utcnow
from subgraphs._common.keys import KeyFolder
from subgraphs.factory import seed as factory_seed
from subgraphs.purchase import seed as purchase_seed
from subgraphs.purchase import sessions
from subgraphs.purchase.settings import Settings as PurchaseSettings
from subgraphs.purchase.signing import Issuer, Signer
from subgraphs.shop import seed as shop_seed
from tools import identity
from tools.client import SyncGraph
from tools.postgres import Cluster, reachable_by_server
from tools.stack import DEFAULT_PORTS, ROOT, SUBGRAPHS, WEB_DIST, Stack, free_port, port_is_free

logger = logging.getLogger("run")
# The databases of the last start, under the data folder, for `make admin` (either demo).
DATABASES_FILE = "databases.env"


class PortTaken(RuntimeError):
    """A port asked for explicitly is in use."""


def _port(variable: str, default: int) -> int:
    """The port `variable` asks for: a taken default moves, a taken explicit one is an error."""
    asked = os.environ.get(variable)
    wanted = int(asked) if asked else default
    if port_is_free(wanted):
        return wanted
    if asked:
        raise PortTaken(
            f"port {wanted} ({variable}) is in use by another program; set {variable} to a free port"
        )
    chosen = free_port()
    logger.warning(
        "port %s is in use by another program; using %s (set %s to choose)", wanted, chosen, variable
    )
    return chosen


def _ports() -> dict[str, int]:
    return {name: _port(f"{name.upper()}_PORT", default) for name, default in DEFAULT_PORTS.items()}


def _postgres(data_dir: Path) -> tuple[Cluster, dict[str, str]]:
    """The demo's PostgreSQL cluster (under var/, or beside it when the server's user cannot reach var/), and
    a database per subgraph in it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    folder = data_dir / "postgres"
    if not reachable_by_server(data_dir):
        digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]
        outside = Path(tempfile.gettempdir()) / f"service-tree-postgres-{digest}"
        outside.mkdir(mode=0o755, exist_ok=True)
        if not folder.is_symlink():
            folder.symlink_to(outside)
        logger.info("%s is not reachable by the postgres user; the cluster lives in %s", data_dir, outside)
        folder = outside
    cluster = Cluster(folder / "data", _port("POSTGRES_PORT", 54329))
    cluster.start()
    return cluster, {name: cluster.create_database(name) for name in SUBGRAPHS}


# The demo customer's first purchase: product name in the demo shop -> quantity.
DEMO_BASKET = {shop_seed.MILK: 2, shop_seed.RYE_BREAD: 1}


@asynccontextmanager
async def _database(stack: Stack, subgraph: str) -> AsyncIterator[Database]:
    db = Database(stack.database_url(subgraph))
    try:
        yield db
    finally:
        await db.dispose()


async def _seed(stack: Stack) -> shop_seed.DemoShop | None:
    """Seed the databases that are still empty; the demo shop when this start created demo data."""
    async with _database(stack, "purchase") as db:
        created = await purchase_seed.seed(db)
    async with _database(stack, "shop") as db:
        shop = await shop_seed.seed(db)
    async with _database(stack, "factory") as db:
        created = await factory_seed.seed(db, shop.products) or shop.created or created
    return shop if created else None


async def _playground_token(stack: Stack) -> str | None:
    """An access token of a new session of the demo customer, for the playground's MyPurchases query
    (development only; it lives as long as any access token: log in again in the playground after that)."""
    settings = PurchaseSettings(
        database_url=stack.database_url("purchase"), signing_keys_dir=str(stack.identity / identity.KEYS)
    )
    if settings.environment != "development":
        return None
    async with _database(stack, "purchase") as db:
        user = await db.read(purchase_seed.demo_user)
        if user is None:
            return None
        ttl = timedelta(seconds=settings.refresh_token_ttl_seconds)
        pair = await db.write(lambda session: sessions.start(session, user=user, now=utcnow(), ttl=ttl))
    issuer = Issuer(
        signer=Signer(KeyFolder(settings.keys_folder())),
        access_ttl_seconds=settings.access_token_ttl_seconds,
        refresh_ttl=ttl,
        service_ttl_seconds=settings.service_token_ttl_seconds,
    )
    return issuer.for_session(pair).token


def _demo_purchase(stack: Stack, shop: shop_seed.DemoShop) -> None:
    """The demo customer's first purchase, made through the router like any client's."""
    if shop.shop_id is None or not DEMO_BASKET.keys() <= shop.products.keys():
        logger.warning("no demo purchase: the demo shop or its products are gone")
        return
    items = [
        BuyItem(product_id=str(shop.products[name]), quantity=count) for name, count in DEMO_BASKET.items()
    ]
    order = BuyInput(shop_id=str(shop.shop_id), items=items, payment=Payment.CARD, purchase_name="Breakfast")
    with SyncGraph(stack.router_url) as graph:
        graph.login(purchase_seed.DEMO_LOGIN, purchase_seed.DEMO_PASSWORD)
        graph.run(graph.api.buy(input=order))


def _remember_databases(stack: Stack) -> None:
    """Leave the databases of this run in DATABASES_FILE under the data folder (`PURCHASE_DATABASE_URL=...`,
    one line per subgraph, shell-quoted), where `make admin` finds the demo's purchase database."""
    lines = [
        f"{subgraph.env_prefix}DATABASE_URL={shlex.quote(stack.database_url(subgraph.name))}\n"
        for subgraph in registry.SUBGRAPHS
    ]
    (stack.data_dir / DATABASES_FILE).write_text("".join(lines))


def main(argv: list[str] | None = None) -> int:
    """Run until Ctrl-C; the exit code is 0 after a clean stop."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="python -m tools.run")
    parser.add_argument(
        "--postgres", action="store_true", help="PostgreSQL under var/ and two processes of each subgraph"
    )
    args = parser.parse_args(argv)
    try:
        stack = Stack(data_dir=Path(os.environ.get("SERVICE_TREE_DATA", ROOT / "var")), ports=_ports())
    except PortTaken as error:
        logger.error("%s", error)
        return 2
    if (WEB_DIST / "index.html").exists():
        stack.web_dir = WEB_DIST
    cluster = None
    if args.postgres:
        cluster, stack.databases = _postgres(stack.data_dir)
        stack.workers = 2
    try:
        return _serve(stack, postgres=cluster)
    finally:
        if cluster is not None:
            cluster.stop()


def _serve(stack: Stack, *, postgres: Cluster | None) -> int:
    stop_requested = False

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stack.migrate()
    _remember_databases(stack)
    seeded = asyncio.run(_seed(stack))
    token = asyncio.run(_playground_token(stack))
    if token is not None:  # the playground opens with the flagship query ready to run as the demo customer
        stack.environment["ROUTER_PLAYGROUND_TOKEN"] = token
    try:
        stack.start()
        if seeded is not None:
            _demo_purchase(stack, seeded)
        logger.info(
            "\nService Tree is up.\n"
            "  web app: %s\n"
            "  playground + endpoint: %s\n"
            "  subgraphs: %s\n"
            "  demo customer: login %r, password %r\n"
            "  data and logs: %s\n"
            "%s"
            "Ctrl-C stops everything.",
            stack.web_url if stack.web_dir else "not built (make web builds it)",
            stack.router_url,
            ", ".join(f"{name} {stack.subgraph_url(name)}" for name in SUBGRAPHS),
            purchase_seed.DEMO_LOGIN,
            purchase_seed.DEMO_PASSWORD,
            stack.data_dir,
            f"  PostgreSQL: {postgres.url('<subgraph>')}, {stack.workers} processes per subgraph\n"
            if postgres
            else "",
        )
        while not stop_requested:
            dead = [name for name, process in stack.processes.items() if not process.alive()]
            if dead:
                logger.error("%s stopped unexpectedly; see %s", ", ".join(dead), stack.data_dir / "logs")
                return 1
            time.sleep(0.5)
        logger.info("stopping...")
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
