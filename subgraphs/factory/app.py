"""The factory subgraph's ASGI app, with the scheduler and the delivery worker running beside it."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import httpx
from starlette.applications import Starlette

from subgraphs._common.app import create_subgraph_app
from subgraphs._common.db import Database
from subgraphs._common.retention import Pruner
from subgraphs.factory.clients import RouterClient
from subgraphs.factory.context import Resources, build_context
from subgraphs.factory.jobs import CraftScheduler, Deliveries
from subgraphs.factory.schema import schema
from subgraphs.factory.services import active_crafts, prune_runs
from subgraphs.factory.settings import Settings


def _resources(
    router_transport: httpx.AsyncBaseTransport | None,
) -> Callable[[Settings, Database], AbstractAsyncContextManager[Resources]]:
    @asynccontextmanager
    async def open_resources(settings: Settings, db: Database) -> AsyncIterator[Resources]:
        router = RouterClient(
            url=settings.router_url,
            secret=settings.jwt_secret,
            service="factory",
            timeout=settings.request_timeout_seconds,
            transport=router_transport,
        )
        deliveries = Deliveries(db=db, client=router, settings=settings)
        scheduler = CraftScheduler(deliveries=deliveries, enabled=settings.scheduler_enabled)
        pruner = Pruner(
            "factory-pruner",
            db=db,
            prune=prune_runs,
            retention=timedelta(days=settings.retention_days),
            interval=settings.prune_interval_seconds,
        )
        if settings.scheduler_enabled:
            scheduler.start(await db.read(active_crafts))
            deliveries.poller.start()
        pruner.poller.start()
        try:
            yield Resources(
                db=db, settings=settings, router=router, scheduler=scheduler, deliveries=deliveries
            )
        finally:
            await pruner.poller.stop(grace=30)
            scheduler.shutdown()
            await deliveries.poller.stop(grace=settings.request_timeout_seconds + 5)
            await asyncio.wait_for(deliveries.settled(), timeout=settings.request_timeout_seconds + 5)
            await router.aclose()

    return open_resources


def create_app(
    settings: Settings | None = None, router_transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """Build the app; the database, the router client, the scheduler and deliveries start in the lifespan."""
    return create_subgraph_app(
        schema=schema,
        settings=settings or Settings(),
        resources=_resources(router_transport),
        build_context=build_context,
    )
