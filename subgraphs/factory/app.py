"""The factory subgraph's ASGI app, with the scheduler and the delivery worker running beside it."""

import contextlib
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
from subgraphs.factory import metrics, runs
from subgraphs.factory.clients import RouterClient
from subgraphs.factory.context import Resources
from subgraphs.factory.jobs import Deliveries
from subgraphs.factory.leader import AdvisoryLead, FileLead
from subgraphs.factory.loaders import Loaders
from subgraphs.factory.scheduler import CraftScheduler
from subgraphs.factory.schema import schema
from subgraphs.factory.settings import Settings


def _resources(
    router_transport: httpx.AsyncBaseTransport | None, identity_transport: httpx.AsyncBaseTransport | None
) -> Callable[[Settings, Database], AbstractAsyncContextManager[Resources]]:
    @asynccontextmanager
    async def open_resources(settings: Settings, db: Database) -> AsyncIterator[Resources]:
        async with contextlib.AsyncExitStack() as stack:
            identity = await stack.enter_async_context(
                identity_of(settings, service="factory", transport=identity_transport)
            )
            yield await _opened(stack, settings, db, identity, router_transport)

    return open_resources


async def _opened(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    db: Database,
    identity: Identity,
    router_transport: httpx.AsyncBaseTransport | None,
) -> Resources:
    router = RouterClient(
        url=settings.router_url,
        tokens=identity.tokens,
        timeout=settings.request_timeout_seconds,
        transport=router_transport,
    )
    deliveries = Deliveries(db=db, client=router, settings=settings)
    scheduler = CraftScheduler(db=db, deliveries=deliveries)
    pruner = Pruner(
        "factory-pruner",
        db=db,
        prunes=[runs.RUNS.prune],
        retention=timedelta(days=settings.retention_days),
        interval=settings.prune_interval_seconds,
    )
    metrics.forget_dead_processes()  # this process may replace a killed one, still counted as a holder
    stack.push_async_callback(router.aclose)
    if settings.scheduler_enabled:
        deliveries.start()
        stack.push_async_callback(deliveries.stop, grace=settings.request_timeout_seconds + 5)
        await _lead(stack, settings, db, scheduler)
    pruner.poller.start()
    stack.push_async_callback(pruner.poller.stop, 30)
    return Resources(
        db=db,
        settings=settings,
        router=router,
        scheduler=scheduler,
        deliveries=deliveries,
        verifier=identity.verifier,
    )


async def _lead(
    stack: contextlib.AsyncExitStack, settings: Settings, db: Database, scheduler: CraftScheduler
) -> None:
    """Run the scheduler in this process alone (SQLite: or refuse to start), or stand by to take it over
    from another process (PostgreSQL)."""
    if db.is_sqlite:
        lead = FileLead(db.url)
        lead.acquire()
        stack.callback(lead.release)
        await scheduler.start()
        stack.push_async_callback(scheduler.stop)
        return
    standby = AdvisoryLead(
        db,
        on_lead=scheduler.start,
        on_loss=scheduler.stop,
        catch_up_window=timedelta(seconds=settings.handover_catch_up_seconds),
    )
    standby.start()
    stack.push_async_callback(standby.stop)


def create_app(
    settings: Settings | None = None,
    router_transport: httpx.AsyncBaseTransport | None = None,
    identity_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """Build the app; the database, the router client, the scheduler and deliveries start in the lifespan.
    Tests pass transports to reach the router and purchase's identity endpoints in process."""
    return create_subgraph_app(
        schema=schema,
        settings=settings or Settings(),
        resources=_resources(router_transport, identity_transport),
        build_context=context_builder(Loaders),
        gauges=metrics.gauges,
    )
