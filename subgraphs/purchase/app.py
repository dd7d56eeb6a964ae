"""The purchase subgraph's ASGI app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from subgraphs._common.app import create_subgraph_app
from subgraphs._common.db import Database
from subgraphs.purchase.context import Resources, build_context
from subgraphs.purchase.schema import schema
from subgraphs.purchase.settings import Settings


@asynccontextmanager
async def _resources(settings: Settings, db: Database) -> AsyncIterator[Resources]:
    yield Resources(db=db, settings=settings)


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app; the database is opened in the lifespan, not at import."""
    return create_subgraph_app(
        schema=schema, settings=settings or Settings(), resources=_resources, build_context=build_context
    )
