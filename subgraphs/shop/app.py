"""The shop subgraph's ASGI app, with its outbox relay running beside it."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import httpx
from starlette.applications import Starlette

from subgraphs._common.app import create_subgraph_app
from subgraphs._common.context import context_builder
from subgraphs._common.db import Database
from subgraphs._common.identity import Identity, identity_of
from subgraphs._common.retention import Pruner
from subgraphs.shop import deliveries, metrics, outbox
from subgraphs.shop.clients import PurchaseClient
from subgraphs.shop.context import Resources
from subgraphs.shop.loaders import Loaders
from subgraphs.shop.schema import prepare_stock_events, schema
from subgraphs.shop.settings import Settings


def _resources(
    purchase_transport: httpx.AsyncBaseTransport | None,
) -> Callable[[Settings, Database], AbstractAsyncContextManager[Resources]]:
    @asynccontextmanager
    async def open_resources(settings: Settings, db: Database) -> AsyncIterator[Resources]:
        async with (
            identity_of(settings, service="shop", transport=purchase_transport) as identity,
            _opened(settings, db, identity, purchase_transport) as resources,
        ):
            yield resources

    return open_resources


@asynccontextmanager
async def _opened(
    settings: Settings, db: Database, identity: Identity, purchase_transport: httpx.AsyncBaseTransport | None
) -> AsyncIterator[Resources]:
    client = PurchaseClient(
        url=settings.purchase_url,
        tokens=identity.tokens,
        timeout=settings.purchase_timeout_seconds,
        transport=purchase_transport,
    )
    relay = outbox.OutboxRelay(
        db=db,
        client=client,
        interval=settings.outbox_interval_seconds,
        retry=settings.outbox_retry_seconds,
        max_backoff=settings.outbox_max_backoff_seconds,
        inline_timeout=settings.purchase_inline_timeout_seconds,
        request_timeout=settings.purchase_timeout_seconds,
    )
    pruner = Pruner(
        "shop-pruner",
        db=db,
        prunes=[deliveries.prune, outbox.OUTBOX.prune],
        retention=timedelta(days=settings.retention_days),
        interval=settings.prune_interval_seconds,
    )
    prepare_stock_events(db)
    relay.start()
    pruner.poller.start()
    try:
        yield Resources(db=db, settings=settings, relay=relay, verifier=identity.verifier)
    finally:
        await pruner.poller.stop(grace=30)
        await relay.stop(grace=settings.purchase_timeout_seconds + 5)
        await client.aclose()


def create_app(
    settings: Settings | None = None, purchase_transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """Build the app; the database, the purchase client and the relay start in the lifespan."""
    return create_subgraph_app(
        schema=schema,
        settings=settings or Settings(),
        resources=_resources(purchase_transport),
        build_context=context_builder(Loaders),
        gauges=metrics.gauges,
    )
