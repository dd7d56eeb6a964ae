"""Fixtures: each test gets its own migrated databases (SQLite files, or PostgreSQL with --backend) and in-process apps."""

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from subgraphs.factory.app import create_app as create_factory_app
from subgraphs.factory.settings import Settings as FactorySettings
from subgraphs.purchase.app import create_app as create_purchase_app
from subgraphs.purchase.settings import Settings as PurchaseSettings
from subgraphs.shop.app import create_app as create_shop_app
from subgraphs.shop.settings import Settings as ShopSettings
from tests.databases import BACKENDS, Databases
from tests.purchase.fixtures import register
from tests.support import IDENTITY_ENV, Link, poll


@asynccontextmanager
async def started(app: Starlette) -> AsyncIterator[Starlette]:
    """`app` with its lifespan entered (database open, background workers running)."""
    async with LifespanManager(app):
        yield app


@asynccontextmanager
async def client_of(app: Starlette, name: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client calling `app` in process, at http://<name>."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}") as client:
        yield client


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=BACKENDS,
        default="sqlite",
        help="the database of every subgraph in the tests: SQLite files, or a throwaway PostgreSQL cluster",
    )


@pytest.fixture(scope="session")
def databases(request: pytest.FixtureRequest) -> Iterator[Databases]:
    """Fresh migrated databases on the backend this run tests."""
    started = Databases.start(request.config.getoption("--backend"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def migrated(databases: Databases, tmp_path: Path) -> Callable[[str], str]:
    """Makes a fresh migrated database of a subgraph for this test; its URL."""
    return lambda subgraph: databases.fresh(subgraph, tmp_path)


@pytest.fixture
async def purchase_app(migrated: Callable[[str], str]) -> AsyncIterator[Starlette]:
    app = create_purchase_app(
        PurchaseSettings(
            database_url=migrated("purchase"),
            signing_keys_dir=IDENTITY_ENV["PURCHASE_SIGNING_KEYS_DIR"],
            service_credentials_file=IDENTITY_ENV["PURCHASE_SERVICE_CREDENTIALS_FILE"],
        )
    )
    async with started(app):
        yield app


@pytest.fixture
async def purchase(purchase_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(purchase_app, "purchase") as client:
        yield client


@pytest.fixture
async def customer(purchase: httpx.AsyncClient) -> str:
    """The token of a customer registered at the in-process purchase app ("alice")."""
    token, _ = await register(purchase)
    return token


@pytest.fixture
def purchase_link(purchase_app: Starlette) -> Link:
    """How the shop reaches the in-process purchase app; tests may cut it."""
    return Link(purchase_app)


@pytest.fixture
async def shop_app(migrated: Callable[[str], str], purchase_link: Link) -> AsyncIterator[Starlette]:
    """The shop, recording purchases in the in-process purchase app."""
    settings = ShopSettings(
        database_url=migrated("shop"),
        purchase_url="http://purchase/graphql",
        identity_url="http://purchase",
        service_secret_file=IDENTITY_ENV["SHOP_SERVICE_SECRET_FILE"],
        outbox_interval_seconds=0.05,
        outbox_retry_seconds=0.05,
        outbox_max_backoff_seconds=0.2,
    )
    app = create_shop_app(settings, purchase_transport=purchase_link)
    async with started(app):
        yield app


@pytest.fixture
async def shop(shop_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(shop_app, "shop") as client:
        yield client


@pytest.fixture
def router_link(shop_app: Starlette) -> Link:
    """How the factory reaches the shop: in process, where it would reach the router (which forwards as is)."""
    return Link(shop_app)


@pytest.fixture
async def factory_app(
    migrated: Callable[[str], str], router_link: Link, purchase_app: Starlette
) -> AsyncIterator[Starlette]:
    settings = FactorySettings(
        database_url=migrated("factory"),
        router_url="http://router/graphql",
        identity_url="http://purchase",
        service_secret_file=IDENTITY_ENV["FACTORY_SERVICE_SECRET_FILE"],
        delivery_retry_seconds=0.05,
        delivery_max_backoff_seconds=0.2,
    )
    app = create_factory_app(settings, router_transport=router_link, identity_transport=Link(purchase_app))
    async with started(app):
        # On PostgreSQL the scheduler starts once this process takes the advisory lock, in the background:
        # a test that creates a craft at once must find it running, as it does on SQLite.
        scheduler = app.state.resources.scheduler

        async def running() -> bool:
            return bool(scheduler.running)

        assert await poll(running, bool, within=10)
        yield app


@pytest.fixture
async def factory(factory_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(factory_app, "factory") as client:
        yield client
