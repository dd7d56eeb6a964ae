"""The purchase subgraph's ASGI app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from subgraphs._common.app import create_subgraph_app
from subgraphs._common.db import Database
from subgraphs.purchase.context import build_context
from subgraphs.purchase.schema import schema
from subgraphs.purchase.settings import Settings


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app; the database is opened in the lifespan, not at import."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.db = Database(settings.database_url)
        try:
            yield
        finally:
            await app.state.db.dispose()

    return create_subgraph_app(
        schema=schema, settings=settings, build_context=build_context, lifespan=lifespan
    )
