"""The factory subgraph's ASGI app, with the scheduler and the delivery worker running beside it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette

from subgraphs._common.app import create_subgraph_app
from subgraphs._common.db import Database
from subgraphs.factory.clients import ShopClient
from subgraphs.factory.context import build_context
from subgraphs.factory.jobs import CraftScheduler, Deliveries
from subgraphs.factory.schema import schema
from subgraphs.factory.services import active_crafts
from subgraphs.factory.settings import Settings


def create_app(
    settings: Settings | None = None, shop_transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """Build the app; the database, the shop client, the scheduler and deliveries start in the lifespan."""
    settings = settings or Settings()

    @asynccontextmanager
    async def resources(app: Starlette, db: Database) -> AsyncIterator[None]:
        shop = ShopClient(
            url=settings.router_url,
            secret=settings.jwt_secret,
            service="factory",
            timeout=settings.request_timeout_seconds,
            transport=shop_transport,
        )
        deliveries = Deliveries(db=db, client=shop, settings=settings)
        scheduler = CraftScheduler(deliveries=deliveries, enabled=settings.scheduler_enabled)
        app.state.shop, app.state.scheduler, app.state.deliveries = shop, scheduler, deliveries
        if settings.scheduler_enabled:
            async with db.read() as session:
                scheduler.start(await active_crafts(session))
            deliveries.poller.start()
        try:
            yield
        finally:
            scheduler.shutdown()
            await deliveries.poller.stop(grace=settings.request_timeout_seconds + 5)
            await shop.aclose()

    return create_subgraph_app(
        schema=schema, settings=settings, build_context=build_context, resources=resources
    )
